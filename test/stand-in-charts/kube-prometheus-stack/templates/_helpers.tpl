{{/* Stand-in for kube-prometheus-stack 88.5.3: names, images and pull secrets as the real chart and its subcharts compute them. */}}

{{/* App versions of the subcharts the real chart bundles (their default image tags). */}}
{{- define "kps.grafanaAppVersion" -}}13.2.0{{- end }}

{{- define "kps.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 50 | trimSuffix "-" }}
{{- end }}

{{/* fullnameOverride | trunc 26; else the release if it contains the chart name; else <release>-<chart>, truncated to 26. */}}
{{- define "kps.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 26 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 26 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 26 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Name of the Prometheus / Alertmanager resource: <fullname>-<component>, or <fullname> with cleanPrometheusOperatorObjectNames. */}}
{{- define "kps.prometheus.crname" -}}
{{- if .Values.cleanPrometheusOperatorObjectNames }}{{ include "kps.fullname" . }}{{ else }}{{ include "kps.fullname" . }}-prometheus{{ end }}
{{- end }}
{{- define "kps.alertmanager.crname" -}}
{{- if .Values.cleanPrometheusOperatorObjectNames }}{{ include "kps.fullname" . }}{{ else }}{{ include "kps.fullname" . }}-alertmanager{{ end }}
{{- end }}

{{- define "kps.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object; subchart objects add their own name and instance labels. */}}
{{- define "kps.commonLabels" -}}
helm.sh/chart: {{ include "kps.chart" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
release: {{ .Release.Name | quote }}
heritage: {{ .Release.Service | quote }}
es1.io/stand-in: "true"
{{- end }}

{{- define "kps.labels" -}}
{{ include "kps.commonLabels" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: kube-prometheus-stack
{{- end }}

{{/* A subchart's fullname: its fullnameOverride; else the release if it contains the chart name; else <release>-<chart>. */}}
{{- define "kps.subchartFullname" -}}
{{- $v := default dict .values }}
{{- if $v.fullnameOverride }}
{{- $v.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .chart $v.nameOverride }}
{{- if contains $name .root.Release.Name }}
{{- .root.Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .root.Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "kps.grafana.fullname" -}}
{{- include "kps.subchartFullname" (dict "root" . "values" .Values.grafana "chart" "grafana") }}
{{- end }}
{{- define "kps.ksm.fullname" -}}
{{- include "kps.subchartFullname" (dict "root" . "values" (index .Values "kube-state-metrics") "chart" "kube-state-metrics") }}
{{- end }}
{{- define "kps.nodeExporter.fullname" -}}
{{- include "kps.subchartFullname" (dict "root" . "values" (index .Values "prometheus-node-exporter") "chart" "prometheus-node-exporter") }}
{{- end }}

{{/*
An image reference: <global.imageRegistry or image.registry>/<repository>:<tag>, @sha256:<sha> when sha is set.
Argument: dict root, image, tag (the default tag).
*/}}
{{- define "kps.image" -}}
{{- $registry := default .image.registry .root.Values.global.imageRegistry }}
{{- $ref := .image.repository }}
{{- if $registry }}{{ $ref = printf "%s/%s" $registry .image.repository }}{{ end }}
{{- $ref = printf "%s:%s" $ref (toString (default .tag .image.tag)) }}
{{- if .image.sha }}{{ $ref = printf "%s@sha256:%s" $ref .image.sha }}{{ end }}
{{- $ref }}
{{- end }}

{{/* global.imagePullSecrets as LocalObjectReferences; names and {name: x} maps are both accepted. */}}
{{- define "kps.imagePullSecrets" -}}
{{- with .Values.global.imagePullSecrets }}
imagePullSecrets:
{{- range . }}
{{- if kindIs "map" . }}
  - name: {{ .name }}
{{- else }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* Pod anti-affinity between the replicas of one StatefulSet. Argument: dict mode, topologyKey, labels. */}}
{{- define "kps.podAntiAffinity" -}}
{{- $term := dict "topologyKey" .topologyKey "labelSelector" (dict "matchLabels" .labels) }}
{{- if eq .mode "hard" }}
podAntiAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    - {{- toYaml $term | nindent 6 }}
{{- else if eq .mode "soft" }}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        {{- toYaml $term | nindent 8 }}
{{- end }}
{{- end }}

{{/* Placement block of a pod: nodeSelector, tolerations, affinity (+ anti-affinity). Argument: dict spec, antiAffinity. */}}
{{- define "kps.placement" -}}
{{- with .spec.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .spec.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- $anti := "" }}
{{- if .antiAffinity }}{{ $anti = include "kps.podAntiAffinity" .antiAffinity | trim }}{{ end }}
{{- if or .spec.affinity $anti }}
affinity:
  {{- with .spec.affinity }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
  {{- if and $anti (not (and .spec.affinity .spec.affinity.podAntiAffinity)) }}
  {{- $anti | nindent 2 }}
  {{- end }}
{{- end }}
{{- end }}

{{/* Guards ES1's values: the CRDs come from the prometheus-operator-crds release. */}}
{{- define "kps.validate" -}}
{{- if .Values.crds.enabled }}
{{- fail "kube-prometheus-stack stand-in: crds.enabled must be false (ES1 installs the Prometheus Operator CRDs with the prometheus-operator-crds chart)" }}
{{- end }}
{{- end }}
