{{/* Stand-in for valkey 0.11.0: names, images and pull secrets as the real chart computes them. */}}

{{- define "valkey.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* fullnameOverride; else the release name if it contains the chart name; else <release>-<chart>. */}}
{{- define "valkey.fullname" -}}
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

{{- define "valkey.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "valkey.selectorLabels" -}}
app.kubernetes.io/name: {{ include "valkey.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "valkey.labels" -}}
helm.sh/chart: {{ include "valkey.chart" . }}
{{ include "valkey.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
es1.io/stand-in: "true"
{{- end }}

{{- define "valkey.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "valkey.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* <registry>/<repository>:<tag>, registry = global.imageRegistry or the image's own; no registry: <repository>:<tag>. */}}
{{- define "valkey.imageRef" -}}
{{- $registry := default .image.registry .global.imageRegistry }}
{{- if $registry }}
{{- printf "%s/%s:%s" $registry .image.repository .tag }}
{{- else }}
{{- printf "%s:%s" .image.repository .tag }}
{{- end }}
{{- end }}

{{- define "valkey.image" -}}
{{- include "valkey.imageRef" (dict "global" (default dict .Values.global) "image" .Values.image "tag" (default .Chart.AppVersion .Values.image.tag)) }}
{{- end }}

{{- define "valkey.metrics.exporter.image" -}}
{{- $img := .Values.metrics.exporter.image }}
{{- include "valkey.imageRef" (dict "global" (default dict .Values.global) "image" $img "tag" (required "metrics.exporter.image.tag must not be empty" $img.tag)) }}
{{- end }}

{{/* global.imagePullSecrets + imagePullSecrets, lists of names, as LocalObjectReferences. */}}
{{- define "valkey.imagePullSecrets" -}}
{{- $names := list }}
{{- range (concat (default list (default dict .Values.global).imagePullSecrets) (default list .Values.imagePullSecrets)) }}
{{- if kindIs "map" . }}
{{- $names = append $names .name }}
{{- else }}
{{- $names = append $names . }}
{{- end }}
{{- end }}
{{- with ($names | uniq) }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end }}

{{/* Key of a user's password in auth.usersExistingSecret: its passwordKey, else its name. */}}
{{- define "valkey.userPasswordKey" -}}
{{- $u := default dict .user }}
{{- default .name $u.passwordKey }}
{{- end }}

{{- define "valkey.hasInlinePasswords" -}}
{{- $found := false }}
{{- range $name, $u := .Values.auth.aclUsers }}
{{- if and $u $u.password }}{{ $found = true }}{{ end }}
{{- end }}
{{- $found }}
{{- end }}

{{/* The real chart's checks of the auth settings. */}}
{{- define "valkey.validateAuthConfig" -}}
{{- if .Values.auth.enabled }}
{{- if not (hasKey .Values.auth.aclUsers "default") }}
{{- fail "auth.aclUsers must define the 'default' user when auth.enabled is true" }}
{{- end }}
{{- range $name, $u := .Values.auth.aclUsers }}
{{- if not (and $u $u.permissions) }}
{{- fail (printf "auth.aclUsers.%s.permissions is required" $name) }}
{{- end }}
{{- if and (not $u.password) (not $.Values.auth.usersExistingSecret) }}
{{- fail (printf "auth.aclUsers.%s needs a password or auth.usersExistingSecret" $name) }}
{{- end }}
{{- if and $u.passwordKey (not $.Values.auth.usersExistingSecret) }}
{{- fail (printf "auth.aclUsers.%s.passwordKey needs auth.usersExistingSecret" $name) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
