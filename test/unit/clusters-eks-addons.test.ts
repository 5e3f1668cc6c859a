import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ADDON_CHARTS, scaleFromZeroTags } from "../../clusters/addons";
import { clusterAutoscalerPolicy } from "../../clusters/eks";
import { NODE_POOLS } from "../../clusters/types";
import { CATALOG } from "../../infrastructure/catalog";
import { ProgramRun, runProgram } from "./harness";
import { at, runCluster } from "./cluster-helpers";

const T = {
  release: "kubernetes:helm.sh/v3:Release",
  serviceAccount: "kubernetes:core/v1:ServiceAccount",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  podIdentity: "aws:eks/podIdentityAssociation:PodIdentityAssociation",
  asgTag: "aws:autoscaling/tag:Tag",
};

const AWS = { provider: "eks", region: "eu-west-1", accountId: "123456789012" };
const GPU = { aiml: { acceleratorType: "nvidia-a10g", machineType: "g5.2xlarge" } };

/** The recorded release `name`, with its chart reference and values. */
function release(run: ProgramRun, name: string) {
  const r = run.byType(T.release).find((x) => x.inputs.name === name);
  assert.ok(
    r,
    `no release ${name}: ${run
      .byType(T.release)
      .map((x) => String(x.inputs.name))
      .join(", ")}`,
  );
  return r.inputs as {
    namespace: string;
    chart: string;
    version?: string;
    repositoryOpts?: { repo: string };
    values: Record<string, unknown>;
  };
}

/** The Auto Scaling group tags of one pool, key → value. */
function poolTags(run: ProgramRun, pool: string): Record<string, string> {
  return Object.fromEntries(
    run
      .byType(T.asgTag)
      .filter((t) => t.name.startsWith(`cluster-${pool}-`))
      .map((t) => {
        const tag = t.inputs.tag as { key: string; value: string; propagateAtLaunch: boolean };
        assert.strictEqual(tag.propagateAtLaunch, false);
        return [tag.key, tag.value];
      }),
  );
}

describe("EKS add-ons: node autoscaling and metrics", () => {
  describe("with Pod Identity (the default) and a GPU pool", () => {
    let run: ProgramRun;
    before(async () => {
      run = await runCluster("prod", { ...AWS, nodePools: GPU });
    });

    it("installs the Cluster Autoscaler from its pinned chart, finding this cluster's node groups", () => {
      const ca = release(run, "cluster-autoscaler");
      assert.strictEqual(ca.namespace, "kube-system");
      assert.deepStrictEqual(
        [ca.chart, ca.version, ca.repositoryOpts?.repo],
        ["cluster-autoscaler", "9.59.0", "https://kubernetes.github.io/autoscaler"],
      );
      assert.strictEqual(at(ca.values, "cloudProvider"), "aws");
      assert.strictEqual(at(ca.values, "awsRegion"), "eu-west-1");
      assert.strictEqual(at(ca.values, "autoDiscovery.clusterName"), "eks-prod");
      // The service account comes from the program, bound to the autoscaler's role.
      assert.deepStrictEqual(at(ca.values, "rbac.serviceAccount"), {
        create: false,
        name: "cluster-autoscaler",
      });
      assert.deepStrictEqual(at(ca.values, "nodeSelector"), NODE_POOLS.system.labels);
    });

    it("gives it an IAM role through Pod Identity that resizes only this cluster's groups", () => {
      const association = run.one(T.podIdentity, "cluster-cluster-autoscaler");
      assert.deepStrictEqual(
        [association.inputs.namespace, association.inputs.serviceAccount],
        ["kube-system", "cluster-autoscaler"],
      );
      const trust = JSON.parse(
        String(run.one(T.role, "cluster-cluster-autoscaler").inputs.assumeRolePolicy),
      ) as {
        Statement: { Principal: { Service: string } }[];
      };
      assert.strictEqual(trust.Statement[0].Principal.Service, "pods.eks.amazonaws.com");
      const policy = JSON.parse(
        String(run.one(T.rolePolicy, "cluster-cluster-autoscaler").inputs.policy),
      ) as {
        Statement: { Action: string[]; Condition?: Record<string, Record<string, string>> }[];
      };
      const resize = policy.Statement.find((s) => s.Action.includes("autoscaling:SetDesiredCapacity"));
      assert.deepStrictEqual(resize?.Condition, {
        StringEquals: { "aws:ResourceTag/k8s.io/cluster-autoscaler/eks-prod": "owned" },
      });
      assert.strictEqual(
        (run.one(T.serviceAccount, "cluster-cluster-autoscaler").inputs.metadata as { annotations: object })
          .annotations["eks.amazonaws.com/role-arn" as keyof object],
        undefined,
      );
    });

    it("tags the GPU pool so the autoscaler grows it from 0 nodes: labels, taint and GPUs per node", () => {
      assert.deepStrictEqual(poolTags(run, "aiml"), {
        "k8s.io/cluster-autoscaler/node-template/label/es1-pool": "aiml",
        "k8s.io/cluster-autoscaler/node-template/label/nvidia.com/gpu.present": "true",
        "k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu": "present:NoSchedule",
        "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu": "1",
      });
      assert.strictEqual(
        poolTags(run, "platform")["k8s.io/cluster-autoscaler/node-template/taint/es1-pool"],
        "platform:NoSchedule",
      );
    });

    it("installs metrics-server, which HorizontalPodAutoscalers read", () => {
      const ms = release(run, "metrics-server");
      assert.deepStrictEqual(
        [ms.namespace, ms.chart, ms.version],
        ["kube-system", "metrics-server", ADDON_CHARTS.metricsServer.version],
      );
    });
  });

  it("binds the role through IRSA when workload identity is off", async () => {
    const run = await runCluster("dev", { ...AWS, workloadIdentity: false });
    assert.strictEqual(run.byType(T.podIdentity).length, 0);
    const sa = run.one(T.serviceAccount, "cluster-cluster-autoscaler").inputs.metadata as {
      annotations: Record<string, string>;
    };
    assert.match(sa.annotations["eks.amazonaws.com/role-arn"], /cluster-cluster-autoscaler/);
    const trust = String(run.one(T.role, "cluster-cluster-autoscaler").inputs.assumeRolePolicy);
    assert.match(trust, /system:serviceaccount:kube-system:cluster-autoscaler/);
  });

  it("takes the charts from an air-gapped site's mirror and the images from its registry", async () => {
    // A directory mirror with an archive (empty: nothing is installed) of every pinned chart.
    const mirror = fs.mkdtempSync(path.join(os.tmpdir(), "es1-addons-"));
    for (const c of [...Object.values(ADDON_CHARTS), ...Object.values(CATALOG).map((e) => e.chart)])
      fs.writeFileSync(path.join(mirror, `${c.chart}-${c.version}.tgz`), "");
    const run = await runProgram(
      {
        "es1:environment": "dev",
        "es1:cluster": JSON.stringify(AWS),
        "es1:airgap": JSON.stringify({ charts: mirror, registry: "registry.internal:5000/es1" }),
      },
      { stack: "eks-dev" },
    );
    const ca = release(run, "cluster-autoscaler");
    assert.strictEqual(ca.chart, path.join(mirror, "cluster-autoscaler-9.59.0.tgz"));
    assert.strictEqual(
      at(ca.values, "image.repository"),
      "registry.internal:5000/es1/autoscaling/cluster-autoscaler",
    );
    assert.strictEqual(
      at(release(run, "metrics-server").values, "image.repository"),
      "registry.internal:5000/es1/metrics-server/metrics-server",
    );
  });

  it("is EKS's alone: GKE and AKS ship an autoscaler and metrics-server", async () => {
    const gke = await runCluster("dev", { provider: "gke", region: "europe-west1", project: "acme-es1" });
    const names = gke.byType(T.release).map((r) => r.inputs.name);
    assert.ok(!names.includes("cluster-autoscaler") && !names.includes("metrics-server"), names.join(", "));
  });

  it("writes the template tags and the resize condition as the autoscaler reads them", () => {
    assert.deepStrictEqual(scaleFromZeroTags({ a: "b" }, [{ key: "k", value: "v", effect: "NoExecute" }]), {
      "k8s.io/cluster-autoscaler/node-template/label/a": "b",
      "k8s.io/cluster-autoscaler/node-template/taint/k": "v:NoExecute",
    });
    assert.match(clusterAutoscalerPolicy("c1"), /"aws:ResourceTag\/k8s.io\/cluster-autoscaler\/c1":"owned"/);
  });
});
