{{/* Stand-in for prometheus-operator-crds 31.0.1. */}}

{{- define "prometheus-operator-crds.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
es1.io/stand-in: "true"
{{- end }}

{{/*
A minimal namespaced CRD of monitoring.coreos.com/v1 that accepts any spec.
Argument: dict root, plural, kind, singular, listKind, shortNames, status.
*/}}
{{- define "prometheus-operator-crds.crd" -}}
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {{ .plural }}.monitoring.coreos.com
  labels:
    {{- include "prometheus-operator-crds.labels" .root | nindent 4 }}
  annotations:
    operator.prometheus.io/version: {{ trimPrefix "v" .root.Chart.AppVersion | quote }}
    es1.io/stand-in: "true"
    {{- with .root.Values.crds.annotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  group: monitoring.coreos.com
  scope: Namespaced
  names:
    plural: {{ .plural }}
    singular: {{ .singular }}
    kind: {{ .kind }}
    listKind: {{ .kind }}List
    shortNames:
      {{- toYaml .shortNames | nindent 6 }}
    categories:
      - prometheus-operator
  versions:
    - name: v1
      served: true
      storage: true
      {{- if .status }}
      subresources:
        status: {}
      {{- end }}
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
{{- end }}
