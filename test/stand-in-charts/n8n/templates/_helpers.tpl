{{/* Standard Helm naming, as the community-charts n8n chart has it. */}}
{{- define "n8n.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "n8n.fullname" -}}
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

{{- define "n8n.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "n8n.selectorLabels" -}}
app.kubernetes.io/name: {{ include "n8n.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "n8n.labels" -}}
helm.sh/chart: {{ include "n8n.chart" . }}
{{ include "n8n.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "n8n.worker.selectorLabels" -}}
app.kubernetes.io/name: {{ include "n8n.name" . }}-worker
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: worker
{{- end -}}

{{- define "n8n.worker.labels" -}}
helm.sh/chart: {{ include "n8n.chart" . }}
{{ include "n8n.worker.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "n8n.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "n8n.runnersImage" -}}
{{- $i := .Values.taskRunners.external.image -}}
{{- printf "%s:%s" $i.repository ($i.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "n8n.queueMode" -}}
{{- if eq .Values.worker.mode "queue" -}}true{{- end -}}
{{- end -}}

{{- define "n8n.postgresSecret" -}}
{{- .Values.externalPostgresql.existingSecret | default (printf "%s-postgresql" (include "n8n.fullname" .)) -}}
{{- end -}}
{{- define "n8n.redisSecret" -}}
{{- .Values.externalRedis.existingSecret | default (printf "%s-redis" (include "n8n.fullname" .)) -}}
{{- end -}}
{{- define "n8n.encryptionKeySecret" -}}
{{- .Values.existingEncryptionKeySecret | default (printf "%s-encryption-key-secret-v2" (include "n8n.fullname" .)) -}}
{{- end -}}

{{/* Env every n8n pod (main and worker) gets. The stand-in's secretKeyRefs are not optional, so a missing key shows. */}}
{{- define "n8n.env" -}}
- name: GENERIC_TIMEZONE
  value: {{ .Values.timezone | quote }}
- name: N8N_DEFAULT_LOCALE
  value: {{ .Values.defaultLocale | quote }}
- name: N8N_PORT
  value: {{ .Values.service.port | quote }}
- name: N8N_DIAGNOSTICS_ENABLED
  value: {{ .Values.diagnostics.enabled | quote }}
- name: N8N_VERSION_NOTIFICATIONS_ENABLED
  value: {{ .Values.versionNotifications.enabled | quote }}
- name: N8N_HIRING_BANNER_ENABLED
  value: "false"
- name: N8N_METRICS
  value: {{ .Values.serviceMonitor.enabled | quote }}
- name: DB_TYPE
  value: {{ .Values.db.type | quote }}
{{- if eq .Values.db.type "postgresdb" }}
{{- $pg := .Values.externalPostgresql }}
- name: DB_POSTGRESDB_HOST
  value: {{ $pg.host | quote }}
- name: DB_POSTGRESDB_PORT
  value: {{ $pg.port | quote }}
- name: DB_POSTGRESDB_DATABASE
  value: {{ $pg.database | quote }}
- name: DB_POSTGRESDB_USER
  value: {{ $pg.username | quote }}
- name: DB_POSTGRESDB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "n8n.postgresSecret" . }}
      key: {{ $pg.existingSecretPasswordKey | default "postgres-password" }}
{{- end }}
{{- if include "n8n.queueMode" . }}
{{- $r := .Values.externalRedis }}
- name: EXECUTIONS_MODE
  value: queue
- name: QUEUE_BULL_REDIS_HOST
  value: {{ $r.host | quote }}
- name: QUEUE_BULL_REDIS_PORT
  value: {{ $r.port | quote }}
- name: QUEUE_BULL_REDIS_DB
  value: {{ $r.database | quote }}
- name: QUEUE_BULL_REDIS_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ include "n8n.redisSecret" . }}
      key: {{ $r.existingUsernameKey | default "redis-username" }}
- name: QUEUE_BULL_REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "n8n.redisSecret" . }}
      key: {{ $r.existingPasswordKey | default "redis-password" }}
- name: QUEUE_HEALTH_CHECK_ACTIVE
  value: "true"
{{- end }}
{{- if eq .Values.taskRunners.mode "external" }}
- name: N8N_RUNNERS_ENABLED
  value: "true"
- name: N8N_RUNNERS_MODE
  value: external
- name: N8N_RUNNERS_AUTH_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "n8n.fullname" . }}-task-runners-secret
      key: auth-token
{{- end }}
{{- end -}}

{{/* The external task runner sidecar. */}}
{{- define "n8n.runnerSidecar" -}}
- name: task-runners
  image: {{ include "n8n.runnersImage" . | quote }}
  imagePullPolicy: {{ .Values.taskRunners.external.image.pullPolicy }}
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  ports:
    - name: runners-health
      containerPort: {{ .Values.taskRunners.external.port }}
      protocol: TCP
  env:
    - name: N8N_RUNNERS_TASK_BROKER_URI
      value: http://127.0.0.1:5679
    - name: N8N_RUNNERS_AUTH_TOKEN
      valueFrom:
        secretKeyRef:
          name: {{ include "n8n.fullname" . }}-task-runners-secret
          key: auth-token
  {{- with .Values.taskRunners.external.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}

{{/* Pod settings shared by main and worker: dict root affinity */}}
{{- define "n8n.podCommon" -}}
{{- $root := .root -}}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml $root.Values.podSecurityContext | nindent 2 }}
{{- with $root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (or .affinity $root.Values.affinity) }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  - name: tmp
    emptyDir: {}
  - name: cache
    emptyDir: {}
  - name: data
    emptyDir: {}
{{- end -}}

{{- define "n8n.mounts" -}}
- name: tmp
  mountPath: /tmp
- name: cache
  mountPath: /home/node/.cache
- name: data
  mountPath: /home/node/.n8n
{{- end -}}
