// Day-to-day operations on the local cluster: `es1 preflight` (and its run at the start of `up`)
// (`es1 status` follows). One small stack: PostgreSQL, Valkey and one customer (docs/operations.md).
import * as assert from "assert";
import { Stack } from "@pulumi/pulumi/automation";
import type { PreflightReport } from "../../automation/preflight";
import type { OperationReport } from "../../automation/report";
import { readState } from "../../automation/state";
import { PROJECT_ROOT } from "../../lib/paths";
import { generateKeyPair } from "../../platform/license";
import { e2eLicense, runEs1Json } from "./es1-cli";
import { clusterUp, getObject, kubectl } from "./kube";
import { componentsOnly, discardStack, openE2eStack } from "./stack";

const STACK = "e2e-ops";
const KEY = generateKeyPair("es1-e2e-ops");
const CUSTOMER = "nordlys";

describe("operations: preflight and status on the local cluster", function () {
  let kubeconfig: string;
  let backend: string;
  let stack: Stack;
  let env: Record<string, string>;

  const es1Json = <T>(exit: number, ...args: string[]): T => runEs1Json<T>(PROJECT_ROOT, env, exit, ...args);

  before(async function () {
    ({ stack, kubeconfig, backend, env } = await openE2eStack(STACK, {
      "es1:sizing": "minimal",
      ...componentsOnly(["postgresql", "redis"]),
      "es1:platformTimeoutSeconds": "45",
      [`es1:licensePublicKeys.${KEY.keyId}`]: KEY.publicKey,
    }));
    await stack.setConfig(`es1:customers.${CUSTOMER}.enabled`, { value: "true" }, true);
    await stack.setConfig(
      `es1:licenses.${CUSTOMER}`,
      { value: e2eLicense(KEY, CUSTOMER), secret: true },
      true,
    );
  });

  after(async function () {
    await discardStack(STACK, stack, backend);
  });

  describe("preflight", function () {
    // Each case breaks the cluster on purpose; scripts/cluster.sh up puts nodes and classes back.
    afterEach(function () {
      clusterUp();
    });

    it("passes on the normal local cluster", function () {
      const r = es1Json<PreflightReport>(0, "preflight", "--stack", STACK);
      assert.strictEqual(r.status, "passed");
      assert.deepStrictEqual(
        r.checks.filter((c) => c.status !== "pass" && c.status !== "skip").map((c) => `${c.id}: ${c.found}`),
        [],
      );
      assert.ok(r.checks.some((c) => c.id === "pool/platform" && c.status === "pass"));
    });

    it("fails with a node's pool label removed, naming the pool and the label; up deploys nothing", async function () {
      kubectl(kubeconfig, "label", "node", "es1-infrastructure-0", "es1-pool-");
      const r = es1Json<PreflightReport>(2, "preflight", "--stack", STACK);
      const failed = r.checks.filter((c) => c.status === "fail");
      assert.deepStrictEqual(
        failed.map((c) => c.id),
        ["pool/infrastructure"],
      );
      assert.match(failed[0].found, /no node carries label es1-pool=infrastructure/);

      const up = es1Json<OperationReport>(2, "up", "--stack", STACK, "--yes");
      assert.ok(
        up.errors.some((e) => /^preflight pool\/infrastructure: .*es1-pool=infrastructure/.test(e)),
        up.errors.join("\n"),
      );
      assert.deepStrictEqual(up.summary, {});
      assert.strictEqual((await readState(stack)).length, 0, "the stack's state holds no resource");
      assert.strictEqual(getObject(kubeconfig, "namespace", "es1-infrastructure"), undefined);
    });

    it("fails with a missing StorageClass, and so does preview", function () {
      kubectl(kubeconfig, "delete", "storageclass", "standard");
      const r = es1Json<PreflightReport>(2, "preflight", "--stack", STACK);
      const sc = r.checks.find((c) => c.id === "storage-class");
      assert.strictEqual(sc?.status, "fail");
      assert.match(sc?.found ?? "", /no StorageClass 'standard'/);
      const preview = es1Json<OperationReport>(2, "preview", "--stack", STACK);
      assert.ok(
        preview.errors.some((e) => e.startsWith("preflight storage-class:")),
        preview.errors.join("\n"),
      );
    });
  });
});
