{{/* Standard Helm naming, as the community-charts MLflow chart has it. */}}
{{- define "mlflow.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "mlflow.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "mlflow.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "mlflow.selectorLabels" -}}
app: {{ include "mlflow.name" . }}
app.kubernetes.io/name: {{ include "mlflow.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "mlflow.labels" -}}
helm.sh/chart: {{ include "mlflow.chart" . }}
{{ include "mlflow.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "mlflow.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "mlflow.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "mlflow.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{- define "mlflow.flaskSecretName" -}}
{{- printf "%s-flask-server-secret-key" (include "mlflow.fullname" .) -}}
{{- end -}}

{{/* <fullname>-env-secret exists with a database backend (PGUSER/PGPASSWORD in it only without an existing database Secret). */}}
{{- define "mlflow.envSecretNeeded" -}}
{{- if or .Values.backendStore.postgres.enabled .Values.backendStore.mysql.enabled .Values.artifactRoot.s3.enabled .Values.artifactRoot.azureBlob.enabled -}}true{{- end -}}
{{- end -}}

{{/* Env shared by the server and the migration init container. */}}
{{- define "mlflow.dbEnv" -}}
{{- $s := .Values.backendStore.existingDatabaseSecret -}}
{{- if and .Values.backendStore.postgres.enabled $s.name }}
- name: PGUSER
  valueFrom:
    secretKeyRef:
      name: {{ $s.name }}
      key: {{ $s.usernameKey }}
- name: PGPASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $s.name }}
      key: {{ $s.passwordKey }}
{{- end }}
{{- end -}}

{{- define "mlflow.backendStoreUri" -}}
{{- $pg := .Values.backendStore.postgres -}}
{{- if $pg.enabled -}}
{{- printf "postgresql%s://" (ternary (printf "+%s" $pg.driver) "" (ne $pg.driver "")) -}}
{{- else -}}
{{- printf "sqlite:///%s" .Values.backendStore.defaultSqlitePath -}}
{{- end -}}
{{- end -}}
