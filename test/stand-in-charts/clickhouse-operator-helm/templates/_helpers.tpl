{{/* Stand-in for clickhouse-operator-helm 0.0.5: names as the real chart computes them. */}}

{{- define "clickhouse-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* fullnameOverride; else the release name if it contains the chart name; else <release>-<chart>. */}}
{{- define "clickhouse-operator.fullname" -}}
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
<fullname>-<suffix>, the fullname shortened first so the result stays within 63 characters.
(dict "suffix" <suffix> "context" $)
*/}}
{{- define "clickhouse-operator.resourceName" -}}
{{- $max := sub 62 (len .suffix) | int }}
{{- printf "%s-%s" (include "clickhouse-operator.fullname" .context | trunc $max | trimSuffix "-") .suffix | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "clickhouse-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "clickhouse-operator.name" . }}
control-plane: controller-manager
{{- end }}

{{- define "clickhouse-operator.labels" -}}
app.kubernetes.io/name: {{ include "clickhouse-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version | replace "+" "_" }}
control-plane: controller-manager
es1.io/stand-in: "true"
{{- end }}
