/**
 * Plain JSON data. Helm values are typed with it, so a Pulumi Output (and with it any secret)
 * cannot be put into a Release's values: charts read secrets from Kubernetes Secrets by name.
 */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };
