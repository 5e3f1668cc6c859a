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

/** An answer of the API server with an error status (401 when the credentials have expired). */
export class KubeHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The answer's body (a Kubernetes Status, or what a proxied service said). */
    readonly body?: string,
  ) {
    super(message);
    this.name = "KubeHttpError";
  }
}

/**
 * A request to the API server (`apiPath` e.g. /apis/apps/v1/namespaces/x/deployments) with an
 * optional JSON body, and its JSON answer. `accept` may ask for another representation, e.g.
 * metadata only (PartialObjectMetadataList) of objects too large to list whole.
 */
export function kubeRequest<T>(
  access: KubeAccess,
  method: "GET" | "PATCH" | "POST",
  apiPath: string,
  body?: { contentType: string; json: unknown },
  timeoutMs = 15_000,
  accept = "application/json",
): Promise<T> {
  const url = new URL(access.server + apiPath);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body.json));
  return new Promise<T>((resolve, reject) => {
    // https unless the kubeconfig names a plain-http server (a local proxy).
    const request = url.protocol === "http:" ? http.request : https.request;
    const req = request(
      url,
      {
        method,
        headers: {
          Accept: accept,
          ...(access.token ? { Authorization: `Bearer ${access.token}` } : {}),
          ...(payload && body
            ? { "Content-Type": body.contentType, "Content-Length": String(payload.length) }
            : {}),
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
          const text = Buffer.concat(chunks).toString("utf8");
          const status = res.statusCode ?? 0;
          if (status >= 400) {
            reject(
              new KubeHttpError(status, `${method} ${apiPath}: HTTP ${status}: ${text.slice(0, 300)}`, text),
            );
            return;
          }
          try {
            resolve(JSON.parse(text) as T);
          } catch (e) {
            reject(new Error(`${method} ${apiPath}: not JSON: ${(e as Error).message}`));
          }
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${apiPath}: no answer in ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(payload);
  });
}

/** GET `apiPath` (e.g. /apis/apps/v1/namespaces/x/deployments) and parse the JSON answer. */
export function kubeGet<T>(access: KubeAccess, apiPath: string, timeoutMs = 15_000): Promise<T> {
  return kubeRequest<T>(access, "GET", apiPath, undefined, timeoutMs);
}

/** What the readiness checks and restarts need of a cluster: reads and patches. */
export interface KubeReader {
  get<T>(apiPath: string): Promise<T>;
}

/**
 * A cluster client whose credentials are resolved when first needed and again after `renew()` or
 * an answer 401: a kubeconfig's exec plugin (EKS, GKE) hands out tokens that expire within
 * minutes, shorter than a rollout.
 */
export class KubeClient implements KubeReader {
  private access?: KubeAccess;

  constructor(private readonly resolve: () => KubeAccess) {}

  /** Forgets the credentials: the next request resolves them again (runs the exec plugin). */
  renew(): void {
    this.access = undefined;
  }

  get<T>(apiPath: string): Promise<T> {
    return this.call<T>((a) => kubeGet<T>(a, apiPath));
  }

  /** Creates an object (POST of its JSON). */
  post<T>(apiPath: string, json: unknown): Promise<T> {
    return this.call<T>((a) => kubeRequest<T>(a, "POST", apiPath, { contentType: "application/json", json }));
  }

  /** A strategic merge patch (what `kubectl patch` sends by default). */
  patch<T>(apiPath: string, json: unknown): Promise<T> {
    return this.call<T>((a) =>
      kubeRequest<T>(a, "PATCH", apiPath, { contentType: "application/strategic-merge-patch+json", json }),
    );
  }

  private async call<T>(request: (access: KubeAccess) => Promise<T>): Promise<T> {
    this.access ??= this.resolve();
    try {
      return await request(this.access);
    } catch (e) {
      if (!(e instanceof KubeHttpError) || e.status !== 401) throw e;
      // Expired between two requests: once more with fresh credentials.
      this.access = this.resolve();
      return request(this.access);
    }
  }
}

/** A client for the cluster in a stack's `platformCluster` output (its kubeconfig and context). */
export function platformClusterClient(platformCluster: unknown): KubeClient {
  const cluster = platformCluster as { kubeconfig?: string; context?: string } | undefined;
  if (cluster === undefined)
    throw new Error(
      "the stack has no platformCluster output: run es1 up on it once with this installer version",
    );
  const kubeconfig = kubeconfigText(cluster.kubeconfig ?? "");
  return new KubeClient(() => kubeAccess(kubeconfig.text, cluster.context, kubeconfig.dir));
}
