import { JsonObject } from "../../lib/json";
import { ReleaseKey } from "../catalog";
import { airflowValues } from "./airflow";
import { ValuesContext } from "./context";
import { certManagerValues, clickhouseOperatorValues, langfuseValues } from "./langfuse";
import { langflowValues } from "./langflow";
import { mlflowValues } from "./mlflow";
import { monitoringCrdsValues, monitoringValues } from "./monitoring";
import { n8nValues } from "./n8n";
import { ollamaValues } from "./ollama";
import { postgresqlOperatorValues, postgresqlValues } from "./postgresql";
import { redisValues } from "./redis";
import { postgresqlBackupValues } from "../backup";
import { veleroValues } from "../velero";

export * from "./context";

/** The values builder of every release: pure functions of the ValuesContext. */
export const VALUES: Record<ReleaseKey, (ctx: ValuesContext) => JsonObject> = {
  "postgresql-operator": postgresqlOperatorValues,
  "postgresql-backup": postgresqlBackupValues,
  postgresql: postgresqlValues,
  redis: redisValues,
  "monitoring-crds": monitoringCrdsValues,
  monitoring: monitoringValues,
  airflow: airflowValues,
  ollama: ollamaValues,
  mlflow: mlflowValues,
  n8n: n8nValues,
  langflow: langflowValues,
  "cert-manager": certManagerValues,
  "clickhouse-operator": clickhouseOperatorValues,
  langfuse: langfuseValues,
  velero: veleroValues,
};
