{{/* Stand-in for cluster 0.8.1: names as the real chart (and the operator) compute them. */}}

{{- define "cluster.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* fullnameOverride; else the release name if it contains the chart name; else <release>-<chart>. */}}
{{- define "cluster.fullname" -}}
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

{{- define "cluster.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "cluster.labels" -}}
helm.sh/chart: {{ include "cluster.chart" . }}
app.kubernetes.io/name: {{ include "cluster.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: cloudnative-pg
app.kubernetes.io/managed-by: {{ .Release.Service }}
es1.io/stand-in: "true"
{{- with .Values.cluster.additionalLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels the operator puts on every instance pod; Services and monitors select on them. */}}
{{- define "cluster.instanceSelector" -}}
cnpg.io/cluster: {{ include "cluster.fullname" . }}
cnpg.io/podRole: instance
{{- end }}

{{- define "cluster.image" -}}
{{- if .Values.cluster.imageName }}
{{- .Values.cluster.imageName }}
{{- else if has .Values.type (list "postgresql" "postgis") }}
{{- printf "ghcr.io/cloudnative-pg/%s:%s" .Values.type (toString .Values.version.postgresql) }}
{{- else }}
{{- fail (printf "stand-in cluster chart: set cluster.imageName for type %q" .Values.type) }}
{{- end }}
{{- end }}

{{/* An environment variable name from a role name: ROLE_<NAME>_<SUFFIX>. */}}
{{- define "cluster.roleEnv" -}}
{{- printf "ROLE_%s_%s" (regexReplaceAll "[^A-Za-z0-9]" .role "_" | upper) .suffix }}
{{- end }}
