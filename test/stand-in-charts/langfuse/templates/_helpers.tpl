{{/* Stand-in for langfuse 2.0.0: names as the real chart computes them. */}}

{{- define "langfuse.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* fullnameOverride; else the release name if it contains the chart name; else <release>-<chart>. */}}
{{- define "langfuse.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Fullname of an aliased sub-chart as the sub-chart computes it, from the release name and the alias
(not from this chart's fullnameOverride). (list $ "<alias>")
*/}}
{{- define "langfuse.subchartFullname" -}}
{{- $root := index . 0 }}
{{- $alias := index . 1 }}
{{- $v := index $root.Values $alias }}
{{- if $v.fullnameOverride }}
{{- $v.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default $alias $v.nameOverride }}
{{- if contains $name $root.Release.Name }}
{{- $root.Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" $root.Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "langfuse.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "langfuse.selectorLabels" -}}
app.kubernetes.io/name: {{ include "langfuse.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "langfuse.labels" -}}
helm.sh/chart: {{ include "langfuse.chart" . }}
{{ include "langfuse.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
es1.io/stand-in: "true"
{{- end }}

{{- define "langfuse.serviceAccountName" -}}
{{- if .Values.langfuse.serviceAccount.create }}
{{- default (include "langfuse.fullname" .) .Values.langfuse.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.langfuse.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "langfuse.appSecretName" -}}
{{- printf "%s-app" (include "langfuse.fullname" .) }}
{{- end }}

{{- define "langfuse.clickhouse.authSecretName" -}}
{{- printf "%s-clickhouse-auth" (include "langfuse.fullname" .) }}
{{- end }}

{{/* SeaweedFS IAM config Secret: a static name from the sub-chart's values, not release-prefixed. */}}
{{- define "langfuse.s3.configSecretName" -}}
{{- .Values.s3.allInOne.s3.existingConfigSecret | default "langfuse-s3-auth" }}
{{- end }}

{{/* A seaweedfs placement value, which must be a YAML string there: (list "<key>" <value>). */}}
{{- define "langfuse.s3.yamlString" -}}
{{- $v := index . 1 }}
{{- if not (kindIs "string" $v) }}
{{- fail (printf "langfuse: %s must be a YAML string (the seaweedfs sub-chart renders it with tpl), not a %s" (index . 0) (kindOf $v)) }}
{{- end }}
{{- $v }}
{{- end }}

{{- define "langfuse.s3.serviceName" -}}
{{- printf "%s-all-in-one" (include "langfuse.subchartFullname" (list . "s3") | trunc 52 | trimSuffix "-") }}
{{- end }}

{{/*
The env "source" of a credential: { value } or { secretKeyRef {name,key} }, mutually exclusive;
empty when neither is given. (dict "key" <values path> "v" <value object>)
*/}}
{{- define "langfuse.valueOrSecret" -}}
{{- $v := .v | default dict }}
{{- $ref := $v.secretKeyRef | default dict }}
{{- if and $ref.name $ref.key }}
{{- if $v.value }}
{{- fail (printf "langfuse: %s: value and secretKeyRef are mutually exclusive" .key) }}
{{- end -}}
valueFrom:
  secretKeyRef:
    name: {{ $ref.name }}
    key: {{ $ref.key }}
{{- else if $v.value }}
value: {{ $v.value | quote }}
{{- end }}
{{- end }}

{{/* An app credential: its value/secretKeyRef, else the chart-made <fullname>-app Secret. */}}
{{- define "langfuse.appSecretValue" -}}
{{- with include "langfuse.valueOrSecret" (dict "key" .key "v" .v) | trim }}
{{- . }}
{{- else }}
valueFrom:
  secretKeyRef:
    name: {{ include "langfuse.appSecretName" .root }}
    key: {{ .secretKey }}
{{- end }}
{{- end }}

{{/* Keys of <fullname>-app the chart must generate: those given neither as value nor secretKeyRef. */}}
{{- define "langfuse.generatedAppKeys" -}}
{{- $keys := list }}
{{- if not (include "langfuse.valueOrSecret" (dict "key" "langfuse.salt" "v" .Values.langfuse.salt)) }}{{ $keys = append $keys "salt" }}{{ end }}
{{- if not (include "langfuse.valueOrSecret" (dict "key" "langfuse.encryptionKey" "v" .Values.langfuse.encryptionKey)) }}{{ $keys = append $keys "encryption-key" }}{{ end }}
{{- if not (include "langfuse.valueOrSecret" (dict "key" "langfuse.nextauth.secret" "v" .Values.langfuse.nextauth.secret)) }}{{ $keys = append $keys "nextauth-secret" }}{{ end }}
{{- join "," $keys }}
{{- end }}

{{/* S3 access key id / secret of Langfuse: s3.accessKeyId|secretAccessKey, else the bundled store's credentials. */}}
{{- define "langfuse.s3Credential" -}}
{{- $root := .root }}
{{- $given := include "langfuse.valueOrSecret" (dict "key" (printf "s3.%s" .which) "v" (index $root.Values.s3 .which)) }}
{{- if $given }}
{{- $given | trim }}
{{- else if $root.Values.s3.deploy }}
{{- $a := $root.Values.s3.auth }}
valueFrom:
  secretKeyRef:
    {{- if $a.existingSecret }}
    name: {{ $a.existingSecret }}
    {{- if eq .which "accessKeyId" }}
    key: {{ required "s3.auth.rootUserSecretKey is required when s3.auth.existingSecret is set" $a.rootUserSecretKey }}
    {{- else }}
    key: {{ required "s3.auth.rootPasswordSecretKey is required when s3.auth.existingSecret is set" $a.rootPasswordSecretKey }}
    {{- end }}
    {{- else }}
    name: {{ include "langfuse.s3.configSecretName" $root }}
    key: {{ ternary "accessKey" "secretKey" (eq .which "accessKeyId") }}
    {{- end }}
{{- end }}
{{- end }}

{{- define "langfuse.validate" -}}
{{- if .Values.postgresql.deploy }}
{{- fail "langfuse stand-in: postgresql.deploy=true is not supported (ES1 never bundles PostgreSQL; set postgresql.deploy=false and postgresql.host)" }}
{{- end }}
{{- if .Values.redis.deploy }}
{{- fail "langfuse stand-in: redis.deploy=true is not supported (ES1 never bundles Valkey; set redis.deploy=false and redis.host)" }}
{{- end }}
{{- if not .Values.postgresql.host }}
{{- fail "langfuse: postgresql.host is required when postgresql.deploy=false" }}
{{- end }}
{{- if not .Values.redis.host }}
{{- fail "langfuse: redis.host is required when redis.deploy=false" }}
{{- end }}
{{- if and .Values.clickhouse.deploy (not .Values.clickhouse.keeper.enabled) }}
{{- fail "langfuse: clickhouse.keeper.enabled must stay true while clickhouse.deploy is true" }}
{{- end }}
{{- if and (not .Values.clickhouse.deploy) (not .Values.clickhouse.host) }}
{{- fail "langfuse: clickhouse.host is required when clickhouse.deploy=false" }}
{{- end }}
{{- end }}

{{/* Pod security: the values when given, else a baseline (the stand-in's; the real chart renders {}). */}}
{{- define "langfuse.podSecurityContext" -}}
{{- if . }}
{{- toYaml . }}
{{- else -}}
runAsNonRoot: true
runAsUser: 1000
seccompProfile:
  type: RuntimeDefault
{{- end }}
{{- end }}

{{- define "langfuse.containerSecurityContext" -}}
{{- if . }}
{{- toYaml . }}
{{- else -}}
allowPrivilegeEscalation: false
capabilities:
  drop:
    - ALL
{{- end }}
{{- end }}

{{/* Environment of the web and worker containers. */}}
{{- define "langfuse.env" -}}
- name: NODE_ENV
  value: {{ .Values.langfuse.nodeEnv | quote }}
- name: LANGFUSE_LOG_LEVEL
  value: {{ .Values.langfuse.logging.level | quote }}
- name: SALT
  {{- include "langfuse.appSecretValue" (dict "root" . "key" "langfuse.salt" "v" .Values.langfuse.salt "secretKey" "salt") | nindent 2 }}
- name: ENCRYPTION_KEY
  {{- include "langfuse.appSecretValue" (dict "root" . "key" "langfuse.encryptionKey" "v" .Values.langfuse.encryptionKey "secretKey" "encryption-key") | nindent 2 }}
{{- with include "langfuse.valueOrSecret" (dict "key" "langfuse.licenseKey" "v" .Values.langfuse.licenseKey) }}
- name: LANGFUSE_EE_LICENSE_KEY
  {{- . | nindent 2 }}
{{- end }}
- name: TELEMETRY_ENABLED
  value: {{ .Values.langfuse.features.telemetryEnabled | quote }}
- name: AUTH_DISABLE_SIGNUP
  value: {{ .Values.langfuse.features.signUpDisabled | quote }}
- name: ENABLE_EXPERIMENTAL_FEATURES
  value: {{ .Values.langfuse.features.experimentalFeaturesEnabled | quote }}
- name: NEXTAUTH_URL
  value: {{ .Values.langfuse.nextauth.url | quote }}
- name: NEXTAUTH_SECRET
  {{- include "langfuse.appSecretValue" (dict "root" . "key" "langfuse.nextauth.secret" "v" .Values.langfuse.nextauth.secret "secretKey" "nextauth-secret") | nindent 2 }}
{{- /* PostgreSQL (external) */}}
- name: DATABASE_HOST
  value: {{ .Values.postgresql.host | quote }}
{{- with .Values.postgresql.port }}
- name: DATABASE_PORT
  value: {{ . | quote }}
{{- end }}
{{- with .Values.postgresql.auth.username }}
- name: DATABASE_USERNAME
  value: {{ . | quote }}
{{- end }}
- name: DATABASE_PASSWORD
{{- if .Values.postgresql.auth.existingSecret }}
  valueFrom:
    secretKeyRef:
      name: {{ .Values.postgresql.auth.existingSecret }}
      key: {{ required "postgresql.auth.secretKeys.userPasswordKey is required when using an existing secret" .Values.postgresql.auth.secretKeys.userPasswordKey }}
{{- else }}
  value: {{ required "postgresql.auth.existingSecret or postgresql.auth.password is required" .Values.postgresql.auth.password | quote }}
{{- end }}
{{- with .Values.postgresql.auth.database }}
- name: DATABASE_NAME
  value: {{ . | quote }}
{{- end }}
{{- with .Values.postgresql.args }}
- name: DATABASE_ARGS
  value: {{ . | quote }}
{{- end }}
- name: LANGFUSE_AUTO_POSTGRES_MIGRATION_DISABLED
  value: {{ not .Values.postgresql.migration.autoMigrate | quote }}
{{- /* Redis / Valkey (external) */}}
{{- $redisPassword := or .Values.redis.auth.existingSecret .Values.redis.auth.password }}
{{- if $redisPassword }}
- name: REDIS_PASSWORD
{{- if .Values.redis.auth.existingSecret }}
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.auth.existingSecret }}
      key: {{ required "redis.auth.existingSecretPasswordKey is required when using an existing secret" .Values.redis.auth.existingSecretPasswordKey }}
{{- else }}
  value: {{ .Values.redis.auth.password | quote }}
{{- end }}
{{- end }}
- name: REDIS_HOST
  value: {{ .Values.redis.host | quote }}
- name: REDIS_PORT
  value: {{ .Values.redis.port | quote }}
{{- with .Values.redis.auth.username }}
- name: REDIS_USERNAME
  value: {{ . | quote }}
{{- end }}
- name: REDIS_TLS_ENABLED
  value: {{ .Values.redis.tls.enabled | quote }}
{{- $auth := "" }}
{{- if and .Values.redis.auth.username $redisPassword }}{{ $auth = printf "%s:$(REDIS_PASSWORD)@" .Values.redis.auth.username }}
{{- else if $redisPassword }}{{ $auth = ":$(REDIS_PASSWORD)@" }}
{{- else if .Values.redis.auth.username }}{{ $auth = printf "%s@" .Values.redis.auth.username }}
{{- end }}
- name: REDIS_CONNECTION_STRING
  value: "{{ ternary "rediss" "redis" (.Values.redis.tls.enabled | default false) }}://{{ $auth }}{{ .Values.redis.host }}:{{ .Values.redis.port }}/{{ .Values.redis.auth.database }}"
{{- /* ClickHouse */}}
{{- $chHost := .Values.clickhouse.host | trimPrefix "http://" | trimPrefix "https://" | default (printf "%s-clickhouse-headless" (include "langfuse.fullname" .)) }}
- name: CLICKHOUSE_MIGRATION_URL
  value: {{ .Values.clickhouse.migration.url | default (printf "clickhouse://%s:%v" $chHost .Values.clickhouse.nativePort) | quote }}
- name: CLICKHOUSE_MIGRATION_SSL
  value: {{ .Values.clickhouse.migration.ssl | quote }}
- name: CLICKHOUSE_URL
  value: "{{ ternary "https" "http" (hasPrefix "https://" .Values.clickhouse.host) }}://{{ $chHost }}:{{ .Values.clickhouse.httpPort }}"
- name: CLICKHOUSE_DB
  value: {{ .Values.clickhouse.database | quote }}
- name: CLICKHOUSE_USER
  value: {{ required "clickhouse.auth.username is required" .Values.clickhouse.auth.username | quote }}
- name: CLICKHOUSE_PASSWORD
{{- if .Values.clickhouse.auth.existingSecret }}
  valueFrom:
    secretKeyRef:
      name: {{ .Values.clickhouse.auth.existingSecret }}
      key: {{ required "clickhouse.auth.existingSecretKey is required when using an existing secret" .Values.clickhouse.auth.existingSecretKey }}
{{- else if .Values.clickhouse.auth.password }}
  value: {{ .Values.clickhouse.auth.password | quote }}
{{- else }}
  valueFrom:
    secretKeyRef:
      name: {{ include "langfuse.clickhouse.authSecretName" . }}
      key: password
{{- end }}
- name: CLICKHOUSE_CLUSTER_ENABLED
  value: {{ .Values.clickhouse.cluster.enabled | quote }}
- name: LANGFUSE_AUTO_CLICKHOUSE_MIGRATION_DISABLED
  value: {{ not .Values.clickhouse.migration.autoMigrate | quote }}
{{- /* S3: event upload, batch export and media upload share the bucket, endpoint and credentials. */}}
{{- $endpoint := .Values.s3.endpoint }}
{{- if and (not $endpoint) .Values.s3.deploy }}
{{- $endpoint = printf "http://%s:%v" (include "langfuse.s3.serviceName" .) .Values.s3.allInOne.s3.port }}
{{- end }}
{{- range $use := list "EVENT_UPLOAD" "BATCH_EXPORT" "MEDIA_UPLOAD" }}
- name: LANGFUSE_S3_{{ $use }}_BUCKET
  value: {{ required "s3.bucket is required" $.Values.s3.bucket | quote }}
{{- with $.Values.s3.region }}
- name: LANGFUSE_S3_{{ $use }}_REGION
  value: {{ . | quote }}
{{- end }}
{{- with $endpoint }}
- name: LANGFUSE_S3_{{ $use }}_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- with include "langfuse.s3Credential" (dict "root" $ "which" "accessKeyId") | trim }}
- name: LANGFUSE_S3_{{ $use }}_ACCESS_KEY_ID
  {{- . | nindent 2 }}
{{- end }}
{{- with include "langfuse.s3Credential" (dict "root" $ "which" "secretAccessKey") | trim }}
- name: LANGFUSE_S3_{{ $use }}_SECRET_ACCESS_KEY
  {{- . | nindent 2 }}
{{- end }}
- name: LANGFUSE_S3_{{ $use }}_FORCE_PATH_STYLE
  value: {{ $.Values.s3.forcePathStyle | quote }}
{{- end }}
- name: LANGFUSE_S3_BATCH_EXPORT_ENABLED
  value: "true"
{{- with .Values.langfuse.additionalEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}
