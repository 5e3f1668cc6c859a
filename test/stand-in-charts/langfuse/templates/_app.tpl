{{/*
Deployment of one Langfuse component (web or worker): (dict "root" $ "component" "web"|"worker").
*/}}
{{- define "langfuse.appDeployment" -}}
{{- $root := .root }}
{{- $L := $root.Values.langfuse }}
{{- $c := index $L .component }}
{{- $scaled := or (($c.hpa).enabled) (($c.keda).enabled) }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "langfuse.fullname" $root }}-{{ .component }}
  labels:
    {{- include "langfuse.labels" $root | nindent 4 }}
    app: {{ .component }}
spec:
  {{- if not $scaled }}
  replicas: {{ $c.replicas | default $L.replicas }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "langfuse.selectorLabels" $root | nindent 6 }}
      app: {{ .component }}
  template:
    metadata:
      {{- with merge (deepCopy (($c.pod).annotations | default dict)) (($L.pod).annotations | default dict) }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      labels:
        {{- include "langfuse.selectorLabels" $root | nindent 8 }}
        app: {{ .component }}
        {{- with merge (deepCopy (($c.pod).labels | default dict)) (($L.pod).labels | default dict) }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "langfuse.serviceAccountName" $root }}
      automountServiceAccountToken: false
      {{- with ($c.image.pullSecrets | default $L.image.pullSecrets) }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- include "langfuse.podSecurityContext" $L.podSecurityContext | nindent 8 }}
      containers:
        - name: {{ $root.Chart.Name }}-{{ .component }}
          image: "{{ $c.image.repository }}:{{ coalesce $c.image.tag $L.image.tag $root.Chart.AppVersion }}"
          imagePullPolicy: {{ $c.image.pullPolicy | default $L.image.pullPolicy }}
          env:
            {{- if eq .component "web" }}
            - name: HOSTNAME
              value: "0.0.0.0"
            - name: PORT
              value: {{ $c.port | default 3000 | quote }}
            {{- end }}
            {{- include "langfuse.env" $root | nindent 12 }}
          {{- with $L.additionalEnvFrom }}
          envFrom:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          ports:
            - name: http
              containerPort: {{ $c.port | default (ternary 3000 3030 (eq .component "web")) }}
              protocol: TCP
          securityContext:
            {{- include "langfuse.containerSecurityContext" $L.securityContext | nindent 12 }}
          {{- with ($c.resources | default $L.resources) }}
          resources:
            {{- toYaml . | nindent 12 }}
          {{- end }}
      {{- with ((($c.pod).nodeSelector) | default $L.nodeSelector) }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with ((($c.pod).tolerations) | default $L.tolerations) }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with ((($c.pod).affinity) | default $L.affinity) }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}
