{{/* Stand-in for HelmForge langflow 1.1.2: names as the real chart computes them. */}}

{{- define "langflow.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
fullnameOverride, else always <release>-<name>: the real helper has no "release name contains the
chart name" shortcut, so release es1-langflow without an override gives es1-langflow-langflow.
*/}}
{{- define "langflow.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "langflow.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "langflow.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "langflow.selectorLabels" -}}
app.kubernetes.io/name: {{ include "langflow.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "langflow.labels" -}}
helm.sh/chart: {{ include "langflow.chart" . }}
{{ include "langflow.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
es1.io/stand-in: "true"
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* image.repository carries the registry; the tag is pinned in values. */}}
{{- define "langflow.image" -}}
{{- printf "%s:%s" .Values.image.repository (toString .Values.image.tag) }}
{{- end }}

{{- define "langflow.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "langflow.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding the auth keys: existingSecret, else the chart's own <fullname>. */}}
{{- define "langflow.authSecretName" -}}
{{- default (include "langflow.fullname" .) .Values.auth.existingSecret }}
{{- end }}

{{- define "langflow.hasDatabaseUrl" -}}
{{- if or .Values.database.url .Values.database.existingSecret }}true{{ end }}
{{- end }}

{{- define "langflow.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not (include "langflow.hasDatabaseUrl" .)) }}
{{- fail "langflow: replicaCount > 1 needs an external database (database.url or database.existingSecret)" }}
{{- end }}
{{- range .Values.podLabels | keys }}
{{- if has . (list "app.kubernetes.io/name" "app.kubernetes.io/instance") }}
{{- fail (printf "langflow: podLabels may not override the selector label %s" .) }}
{{- end }}
{{- end }}
{{- end }}
