{{/*
One long-running Airflow component. dict:
  root, component (label value and name suffix), values (the component's values), kind
  (Deployment or StatefulSet), args, ports (list of {name, containerPort}), persistence (StatefulSet
  logs claim, optional)
*/}}
{{- define "airflow.workload" -}}
{{- $root := .root -}}
{{- $v := .values -}}
{{- $name := printf "%s-%s" (include "airflow.prefix" $root) .component -}}
apiVersion: apps/v1
kind: {{ .kind }}
metadata:
  name: {{ $name }}
  labels:
    {{- include "airflow.labels" (dict "root" $root "component" .component) | nindent 4 }}
spec:
  replicas: {{ $v.replicas }}
  {{- if eq .kind "StatefulSet" }}
  serviceName: {{ $name }}
  podManagementPolicy: Parallel
  {{- end }}
  selector:
    matchLabels:
      {{- include "airflow.selectorLabels" (dict "root" $root "component" .component) | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "airflow.selectorLabels" (dict "root" $root "component" .component) | nindent 8 }}
    spec:
      {{- include "airflow.podCommon" (dict "root" $root "component" $v) | trim | nindent 6 }}
      initContainers:
        {{- include "airflow.waitForMigrations" $root | nindent 8 }}
      containers:
        - name: {{ .component }}
          image: {{ include "airflow.image" $root }}
          imagePullPolicy: {{ $root.Values.images.airflow.pullPolicy }}
          args: {{ toJson .args }}
          {{- include "airflow.containerSecurityContext" $root | nindent 10 }}
          ports:
            {{- range .ports }}
            - name: {{ .name }}
              containerPort: {{ .containerPort }}
              protocol: TCP
            {{- end }}
          {{- with $v.resources }}
          resources:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          env:
            {{- include "airflow.secretEnv" $root | trim | nindent 12 }}
          volumeMounts:
            {{- include "airflow.configMount" $root | nindent 12 }}
            - name: logs
              mountPath: /opt/airflow/logs
      volumes:
        {{- include "airflow.configVolume" $root | nindent 8 }}
        {{- if not (and (eq .kind "StatefulSet") .persistence) }}
        - name: logs
          emptyDir: {}
        {{- end }}
  {{- if and (eq .kind "StatefulSet") .persistence }}
  volumeClaimTemplates:
    - apiVersion: v1
      kind: PersistentVolumeClaim
      metadata:
        name: logs
        {{- with .persistence.annotations }}
        annotations:
          {{- toYaml . | nindent 10 }}
        {{- end }}
      spec:
        {{- with .persistence.storageClassName }}
        storageClassName: {{ . }}
        {{- end }}
        accessModes: ["ReadWriteOnce"]
        resources:
          requests:
            storage: {{ .persistence.size }}
  {{- end }}
{{- end -}}

{{/* Headless Service of a StatefulSet component: dict root component port(name, number) */}}
{{- define "airflow.headlessService" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "airflow.prefix" .root }}-{{ .component }}
  labels:
    {{- include "airflow.labels" (dict "root" .root "component" .component) | nindent 4 }}
spec:
  clusterIP: None
  selector:
    {{- include "airflow.selectorLabels" (dict "root" .root "component" .component) | nindent 4 }}
  ports:
    - name: {{ .portName }}
      protocol: TCP
      port: {{ .port }}
      targetPort: {{ .port }}
{{- end -}}
