{{/* Stand-in helpers: the naming and shared pod parts of the official Airflow chart. */}}

{{/* Standard Helm fullname: fullnameOverride, else the release name if it contains the chart name, else <release>-airflow. */}}
{{- define "airflow.fullname" -}}
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

{{/* Prefix of every object name: the release name (legacy naming, the default) or the fullname. */}}
{{- define "airflow.prefix" -}}
{{- if .Values.useStandardNaming -}}{{ include "airflow.fullname" . }}{{- else -}}{{ .Release.Name }}{{- end -}}
{{- end -}}

{{- define "airflow.isAirflow3" -}}
{{- if semverCompare ">=3.0.0" .Values.airflowVersion -}}true{{- end -}}
{{- end -}}

{{- define "airflow.celery" -}}
{{- if contains "Celery" .Values.executor -}}true{{- end -}}
{{- end -}}

{{- define "airflow.dagProcessorEnabled" -}}
{{- if kindIs "invalid" .Values.dagProcessor.enabled -}}
{{- include "airflow.isAirflow3" . -}}
{{- else if .Values.dagProcessor.enabled -}}true{{- end -}}
{{- end -}}

{{/* Secret names: the one named in values, else the one the chart makes. */}}
{{- define "airflow.metadataSecret" -}}
{{- .Values.data.metadataSecretName | default (printf "%s-airflow-metadata" (include "airflow.prefix" .)) -}}
{{- end -}}
{{- define "airflow.brokerUrlSecret" -}}
{{- .Values.data.brokerUrlSecretName | default (printf "%s-broker-url" (include "airflow.prefix" .)) -}}
{{- end -}}
{{- define "airflow.fernetKeySecret" -}}
{{- .Values.fernetKeySecretName | default (printf "%s-fernet-key" (include "airflow.prefix" .)) -}}
{{- end -}}
{{- define "airflow.apiSecretKeySecret" -}}
{{- .Values.apiSecretKeySecretName | default (printf "%s-api-secret-key" (include "airflow.prefix" .)) -}}
{{- end -}}
{{- define "airflow.jwtSecret" -}}
{{- .Values.jwtSecretName | default (printf "%s-jwt-secret" (include "airflow.prefix" .)) -}}
{{- end -}}
{{- define "airflow.registrySecret" -}}
{{- if .Values.registry.secretName -}}{{ .Values.registry.secretName }}
{{- else if .Values.registry.connection -}}{{ include "airflow.prefix" . }}-registry
{{- end -}}
{{- end -}}

{{- define "airflow.image" -}}
{{- $repo := .Values.images.airflow.repository | default .Values.defaultAirflowRepository -}}
{{- $tag := .Values.images.airflow.tag | default .Values.defaultAirflowTag -}}
{{- printf "%s:%s" $repo (toString $tag) -}}
{{- end -}}

{{- define "airflow.statsdImage" -}}
{{- printf "%s:%s" .Values.images.statsd.repository (toString .Values.images.statsd.tag) -}}
{{- end -}}

{{/* labels: dict root component */}}
{{- define "airflow.labels" -}}
tier: airflow
component: {{ .component }}
release: {{ .root.Release.Name }}
chart: "{{ .root.Chart.Name }}-{{ .root.Chart.Version }}"
heritage: {{ .root.Release.Service }}
{{- end -}}

{{- define "airflow.selectorLabels" -}}
tier: airflow
component: {{ .component }}
release: {{ .root.Release.Name }}
{{- end -}}

{{/* The env every Airflow container gets from the chart's Secrets. */}}
{{- define "airflow.secretEnv" -}}
{{- $on := .Values.enableBuiltInSecretEnvVars -}}
{{- if $on.AIRFLOW__CORE__FERNET_KEY }}
- name: AIRFLOW__CORE__FERNET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "airflow.fernetKeySecret" . }}
      key: fernet-key
{{- end }}
{{- range $env := list "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" "AIRFLOW__CORE__SQL_ALCHEMY_CONN" "AIRFLOW_CONN_AIRFLOW_DB" }}
{{- if index $on $env }}
- name: {{ $env }}
  valueFrom:
    secretKeyRef:
      name: {{ include "airflow.metadataSecret" $ }}
      key: connection
{{- end }}
{{- end }}
{{- if and (include "airflow.celery" .) $on.AIRFLOW__CELERY__BROKER_URL }}
- name: AIRFLOW__CELERY__BROKER_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "airflow.brokerUrlSecret" . }}
      key: connection
{{- end }}
{{- if include "airflow.isAirflow3" . }}
{{- if $on.AIRFLOW__API__SECRET_KEY }}
- name: AIRFLOW__API__SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "airflow.apiSecretKeySecret" . }}
      key: api-secret-key
{{- end }}
{{- if and .Values.apiServer.enabled $on.AIRFLOW__API_AUTH__JWT_SECRET }}
- name: AIRFLOW__API_AUTH__JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "airflow.jwtSecret" . }}
      key: jwt-secret
{{- end }}
{{- end }}
{{- end -}}

{{/* Pod-level settings shared by every Airflow pod: dict root component (the component's values). */}}
{{- define "airflow.podCommon" -}}
{{- $root := .root -}}
{{- $c := .component -}}
{{- with include "airflow.registrySecret" $root }}
imagePullSecrets:
  - name: {{ . }}
{{- end }}
{{- with (or $c.nodeSelector $root.Values.nodeSelector) }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (or $c.affinity $root.Values.affinity) }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (or $c.tolerations $root.Values.tolerations) }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
  runAsUser: {{ $root.Values.uid }}
  runAsGroup: {{ $root.Values.gid }}
  fsGroup: {{ $root.Values.gid }}
  seccompProfile:
    type: RuntimeDefault
{{- end -}}

{{- define "airflow.containerSecurityContext" -}}
securityContext:
  allowPrivilegeEscalation: false
  capabilities:
    drop: ["ALL"]
{{- end -}}

{{/* The init container that waits for the migrations, as the real chart's long-running pods have. */}}
{{- define "airflow.waitForMigrations" -}}
- name: wait-for-airflow-migrations
  image: {{ include "airflow.image" . }}
  imagePullPolicy: {{ .Values.images.airflow.pullPolicy }}
  args: ["airflow", "db", "check-migrations", "--migration-wait-timeout=60"]
  {{- include "airflow.containerSecurityContext" . | nindent 2 }}
  env:
    {{- include "airflow.secretEnv" . | trim | nindent 4 }}
  volumeMounts:
    - name: config
      mountPath: /opt/airflow/airflow.cfg
      subPath: airflow.cfg
      readOnly: true
{{- end -}}

{{- define "airflow.configVolume" -}}
- name: config
  configMap:
    name: {{ include "airflow.prefix" . }}-config
{{- end -}}

{{- define "airflow.configMount" -}}
- name: config
  mountPath: /opt/airflow/airflow.cfg
  subPath: airflow.cfg
  readOnly: true
{{- end -}}
