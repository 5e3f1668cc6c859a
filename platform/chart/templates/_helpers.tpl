{{/* Names ------------------------------------------------------------------------------- */}}

{{- define "es1-platform.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Prefix of every object: the release name when it already says es1-platform. */}}
{{- define "es1-platform.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "es1-platform.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The services of the platform: object-name suffix, default image name, whether it autoscales
(HPA + PDB), its probe paths, and whether it reads a connection Secret from env.
*/}}
{{- define "es1-platform.components" -}}
gateway: {suffix: gateway, image: gateway, scalable: true, live: /__health, ready: /__health, secretEnv: false}
managerApi: {suffix: manager-api, image: platform-manager-api, scalable: true, live: /healthz, ready: /readyz, secretEnv: true}
managerUi: {suffix: manager-ui, image: platform-manager-ui, scalable: true, live: /healthz, ready: /readyz, secretEnv: false}
agentRouter: {suffix: agent-router, image: agent-router, scalable: true, live: /healthz, ready: /readyz, secretEnv: true}
crewai: {suffix: crewai, image: crewai-service, scalable: false, live: /healthz, ready: /readyz, secretEnv: true}
autogen: {suffix: autogen, image: autogen-service, scalable: false, live: /healthz, ready: /readyz, secretEnv: true}
{{- end -}}

{{/* componentName (dict "root" $ "key" "managerApi"): the object name of one service. */}}
{{- define "es1-platform.componentName" -}}
{{- $c := index (include "es1-platform.components" .root | fromYaml) .key -}}
{{- printf "%s-%s" (include "es1-platform.fullname" .root | trunc 50 | trimSuffix "-") $c.suffix -}}
{{- end -}}

{{/* Labels -------------------------------------------------------------------------------- */}}

{{- define "es1-platform.selectorLabels" -}}
app.kubernetes.io/name: {{ include "es1-platform.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "es1-platform.labels" -}}
{{ include "es1-platform.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: es1
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
es1-customer: {{ .Values.customer.name | quote }}
{{- with .Values.owner.name }}
owner: {{ . | quote }}
{{- end }}
{{- end -}}

{{/* componentSelectorLabels (dict "root" $ "key" "gateway") */}}
{{- define "es1-platform.componentSelectorLabels" -}}
{{ include "es1-platform.selectorLabels" .root }}
app.kubernetes.io/component: {{ (index (include "es1-platform.components" .root | fromYaml) .key).suffix }}
{{- end -}}

{{- define "es1-platform.componentLabels" -}}
{{ include "es1-platform.labels" .root }}
app.kubernetes.io/component: {{ (index (include "es1-platform.components" .root | fromYaml) .key).suffix }}
{{- end -}}

{{/* Images -------------------------------------------------------------------------------- */}}

{{/* image (dict "root" $ "name" "gateway" "image" .Values.services.gateway.image) */}}
{{- define "es1-platform.image" -}}
{{- $root := .root -}}
{{- $registry := default $root.Values.image.registry $root.Values.global.imageRegistry | trimSuffix "/" -}}
{{- $repository := default (printf "%s/%s" $root.Values.image.organization .name) .image.repository -}}
{{- $tag := default (default $root.Chart.AppVersion $root.Values.image.tag) .image.tag -}}
{{- printf "%s/%s:%s" $registry $repository $tag -}}
{{- end -}}

{{/* Shared pieces of pod specs ----------------------------------------------------------- */}}

{{- define "es1-platform.serviceAccountName" -}}
{{- include "es1-platform.fullname" . -}}
{{- end -}}

{{/* Restricted Pod Security, container level. */}}
{{- define "es1-platform.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Environment of the license-check init container and the license-watch sidecar. */}}
{{- define "es1-platform.licenseEnv" -}}
- name: ES1_CUSTOMER
  value: {{ .Values.customer.name | quote }}
- name: ES1_LICENSE_MODE
  value: {{ .Values.license.mode | quote }}
{{- if eq .Values.license.mode "online" }}
- name: ES1_LICENSE_URL
  value: {{ required "license.onlineUrl is required when license.mode is online" .Values.license.onlineUrl | quote }}
{{- end }}
- name: ES1_LICENSE_GRACE_PERIOD
  value: {{ .Values.license.gracePeriod | quote }}
- name: ES1_LICENSE_FILE
  value: /etc/es1/license/license
- name: ES1_LICENSE_KEYS_DIR
  value: /etc/es1/license-keys
- name: ES1_LICENSE_HEALTH_PORT
  value: {{ .Values.license.healthPort | quote }}
{{- end -}}

{{- define "es1-platform.licenseMounts" -}}
- name: license
  mountPath: /etc/es1/license
  readOnly: true
- name: license-keys
  mountPath: /etc/es1/license-keys
  readOnly: true
- name: license-tmp
  mountPath: /tmp
{{- end -}}

{{- define "es1-platform.licenseImage" -}}
{{- include "es1-platform.image" (dict "root" . "name" "license-validator" "image" .Values.license.image) -}}
{{- end -}}

{{/* The Secret key reference of a connection: secretEnvVar (dict "name" "DATABASE_URL" "secret" "x" "key" "url") */}}
{{- define "es1-platform.secretEnvVar" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: {{ .key }}
{{- end -}}
