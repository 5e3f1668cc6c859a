{{/* Stand-in for cert-manager v1.20.2: names as the real chart computes them. */}}

{{- define "cert-manager.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* fullnameOverride; else the release name if it contains the chart name; else <release>-<chart>. */}}
{{- define "cert-manager.fullname" -}}
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

{{/* Component names: the fullname shortened so that "-<component>" still fits in 63 characters. */}}
{{- define "webhook.fullname" -}}
{{- printf "%s-webhook" (include "cert-manager.fullname" . | trunc 55 | trimSuffix "-") }}
{{- end }}

{{- define "cainjector.fullname" -}}
{{- printf "%s-cainjector" (include "cert-manager.fullname" . | trunc 52 | trimSuffix "-") }}
{{- end }}

{{- define "cert-manager.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels of one component: (dict "root" $ "app" <app> "component" <component>). */}}
{{- define "cert-manager.selectorLabels" -}}
app.kubernetes.io/name: {{ .app }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "cert-manager.labels" -}}
app: {{ .app }}
{{ include "cert-manager.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ include "cert-manager.chart" .root }}
es1.io/stand-in: "true"
{{- with .root.Values.global.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Image of one component: [<registry>/]<repository>, then @<digest> or :<tag> (default appVersion).
(dict "root" $ "image" <component image values>)
*/}}
{{- define "cert-manager.image" -}}
{{- $repo := .image.repository }}
{{- with .image.registry }}{{ $repo = printf "%s/%s" . $repo }}{{ end }}
{{- if .image.digest }}
{{- printf "%s@%s" $repo .image.digest }}
{{- else }}
{{- printf "%s:%s" $repo (toString (.image.tag | default .root.Chart.AppVersion)) }}
{{- end }}
{{- end }}

{{/* ServiceAccount name of a component: (dict "sa" <serviceAccount values> "default" <name>). */}}
{{- define "cert-manager.serviceAccountName" -}}
{{- if .sa.create }}
{{- default .default .sa.name }}
{{- else }}
{{- default "default" .sa.name }}
{{- end }}
{{- end }}

{{/*
Pod spec parts shared by the three Deployments.
(dict "root" $ "v" <component values> "sa" <service account name>)
*/}}
{{- define "cert-manager.podPlacement" -}}
{{- $v := .v }}
serviceAccountName: {{ .sa }}
automountServiceAccountToken: false
{{- with .root.Values.global.priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
{{- with .root.Values.global.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.securityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
