// Read-only access to a stack's cluster for `es1 rollout`: the kubeconfig from the stack's
// `platformCluster` output, the same credentials the Pulumi Kubernetes provider uses (certificate,
// token or exec plugin such as gke-gcloud-auth-plugin / aws eks get-token), and GETs of JSON.
// Small on purpose: the rollout reads Deployments and StatefulSets, nothing else.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";

/** Where and how to reach a cluster's API server. */
export interface KubeAccess {
  server: string;
  ca?: Buffer;
  insecureSkipTlsVerify?: boolean;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
}

interface Named<T> {
  name: string;
  cluster?: T;
  user?: T;
  context?: T;
}
interface KubeconfigCluster {
  server?: string;
  "certificate-authority"?: string;
  "certificate-authority-data"?: string;
  "insecure-skip-tls-verify"?: boolean;
}
interface KubeconfigExec {
  apiVersion?: string;
  command?: string;
  args?: string[];
  env?: { name: string; value: string }[] | null;
}
interface KubeconfigUser {
  "client-certificate"?: string;
  "client-certificate-data"?: string;
  "client-key"?: string;
  "client-key-data"?: string;
  token?: string;
  tokenFile?: string;
  exec?: KubeconfigExec;
}
interface Kubeconfig {
  "current-context"?: string;
  clusters?: Named<KubeconfigCluster>[];
  users?: Named<KubeconfigUser>[];
  contexts?: Named<{ cluster?: string; user?: string }>[];
}

/**
 * The kubeconfig to use: the stack's, or (empty, for an ambient-kubeconfig stack) the machine's,
 * with the directory its relative file paths are taken from (kubectl's rule: the file's own).
 */
export function kubeconfigText(
  fromStack: string,
  env: NodeJS.ProcessEnv = process.env,
): { text: string; dir: string } {
  if (fromStack.trim() !== "") return { text: fromStack, dir: process.cwd() };
  const file =
    (env.KUBECONFIG ?? "").split(path.delimiter).find((f) => f !== "") ??
    path.join(os.homedir(), ".kube", "config");
  return { text: fs.readFileSync(file, "utf8"), dir: path.dirname(path.resolve(file)) };
}

function fileOrData(data: string | undefined, file: string | undefined, base: string): Buffer | undefined {
  if (data) return Buffer.from(data, "base64");
  if (file) return fs.readFileSync(path.resolve(base, file));
  return undefined;
}

/** Runs a kubeconfig exec plugin and returns the credential it prints (ExecCredential). */
function execCredential(exec: KubeconfigExec): { token?: string; cert?: Buffer; key?: Buffer } {
  if (!exec.command) throw new Error("the kubeconfig's exec entry has no command");
  const r = spawnSync(exec.command, exec.args ?? [], {
    encoding: "utf8",
    env: {
      ...process.env,
      ...Object.fromEntries((exec.env ?? []).map((e) => [e.name, e.value])),
      KUBERNETES_EXEC_INFO: JSON.stringify({
        apiVersion: exec.apiVersion ?? "client.authentication.k8s.io/v1beta1",
        kind: "ExecCredential",
        spec: { interactive: false },
      }),
    },
  });
  if (r.error) throw new Error(`kubeconfig exec plugin ${exec.command}: ${r.error.message}`);
  if (r.status !== 0)
    throw new Error(`kubeconfig exec plugin ${exec.command} exited ${r.status}: ${r.stderr.trim()}`);
  const status = (
    JSON.parse(r.stdout) as {
      status?: { token?: string; clientCertificateData?: string; clientKeyData?: string };
    }
  ).status;
  return {
    ...(status?.token ? { token: status.token } : {}),
    ...(status?.clientCertificateData ? { cert: Buffer.from(status.clientCertificateData) } : {}),
    ...(status?.clientKeyData ? { key: Buffer.from(status.clientKeyData) } : {}),
  };
}

/**
 * Resolves a kubeconfig (text) and context (its current context when unset) to API access.
 * Relative file paths in it are taken from `baseDir`, as kubectl does from the file's directory.
 */
export function kubeAccess(text: string, context?: string, baseDir = process.cwd()): KubeAccess {
  const config = (yaml.load(text) ?? {}) as Kubeconfig;
  const ctxName = context ?? config["current-context"];
  const ctx = config.contexts?.find((c) => c.name === ctxName)?.context;
  if (!ctx) throw new Error(`the kubeconfig has no context '${ctxName ?? ""}'`);
  const cluster = config.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  if (!cluster?.server) throw new Error(`the kubeconfig has no server for cluster '${ctx.cluster ?? ""}'`);
  const user = config.users?.find((u) => u.name === ctx.user)?.user ?? {};
  const fromExec = user.exec ? execCredential(user.exec) : {};
  const token =
    fromExec.token ??
    user.token ??
    (user.tokenFile ? fs.readFileSync(path.resolve(baseDir, user.tokenFile), "utf8").trim() : undefined);
  const cert =
    fromExec.cert ?? fileOrData(user["client-certificate-data"], user["client-certificate"], baseDir);
  const key = fromExec.key ?? fileOrData(user["client-key-data"], user["client-key"], baseDir);
  const ca = fileOrData(cluster["certificate-authority-data"], cluster["certificate-authority"], baseDir);
  return {
    server: cluster.server.replace(/\/+$/, ""),
    ...(ca ? { ca } : {}),
    ...(cluster["insecure-skip-tls-verify"] ? { insecureSkipTlsVerify: true } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(token ? { token } : {}),
  };
}

/** GET `apiPath` (e.g. /apis/apps/v1/namespaces/x/deployments) and parse the JSON answer. */
export function kubeGet<T>(access: KubeAccess, apiPath: string, timeoutMs = 15_000): Promise<T> {
  const url = new URL(access.server + apiPath);
  return new Promise<T>((resolve, reject) => {
    // https unless the kubeconfig names a plain-http server (a local proxy).
    const request = url.protocol === "http:" ? http.request : https.request;
    const req = request(
      url,
      {
        method: "GET",
        headers: {
          Accept: "application/json",
          ...(access.token ? { Authorization: `Bearer ${access.token}` } : {}),
        },
        ...(access.ca ? { ca: access.ca } : {}),
        ...(access.cert ? { cert: access.cert } : {}),
        ...(access.key ? { key: access.key } : {}),
        rejectUnauthorized: access.insecureSkipTlsVerify !== true,
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          if ((res.statusCode ?? 0) >= 400) {
            reject(new Error(`GET ${apiPath}: HTTP ${res.statusCode}: ${body.slice(0, 300)}`));
            return;
          }
          try {
            resolve(JSON.parse(body) as T);
          } catch (e) {
            reject(new Error(`GET ${apiPath}: not JSON: ${(e as Error).message}`));
          }
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`GET ${apiPath}: no answer in ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}
