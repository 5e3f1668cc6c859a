{{/* krakend.json of the gateway: one endpoint per route and method, to services that are on. */}}
{{- define "es1-platform.krakendJson" -}}
{{- $gw := .Values.services.gateway -}}
{{- $endpoints := list -}}
{{- range $route := $gw.krakend.routes -}}
{{- $target := index $.Values.services $route.backend -}}
{{- if $target.enabled -}}
{{- $host := printf "http://%s:%d" (include "es1-platform.componentName" (dict "root" $ "key" $route.backend)) (int $target.port) -}}
{{- range $method := $route.methods -}}
{{- $backend := dict "host" (list $host) "url_pattern" $route.urlPattern "method" $method "encoding" "no-op" -}}
{{- $endpoints = append $endpoints (dict "endpoint" $route.endpoint "method" $method "output_encoding" "no-op" "input_headers" $gw.krakend.inputHeaders "input_query_strings" (list "*") "backend" (list $backend)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $extra := dict "router" (dict "return_error_msg" false "logger_skip_paths" (list "/__health") "health_path" "/__health") -}}
{{- /* Prometheus metrics on the metrics port: the global layer only (http_server_duration by
route, method and status code), no traces (no collector to send them to). */ -}}
{{- if gt (int $gw.metricsPort) 0 -}}
{{- $prometheus := dict "name" "prometheus" "port" (int $gw.metricsPort) "process_metrics" true "go_metrics" true -}}
{{- $layers := dict "global" (dict "disable_traces" true "disable_propagation" true) "proxy" (dict "disable_metrics" true "disable_traces" true) "backend" (dict "metrics" (dict "disable_stage" true) "traces" (dict "disable_stage" true)) -}}
{{- $_ := set $extra "telemetry/opentelemetry" (dict "service_name" (printf "es1-gateway-%s" .Values.customer.name) "metric_reporting_period" 1 "trace_sample_rate" 0 "skip_paths" (list "/__health") "exporters" (dict "prometheus" (list $prometheus)) "layers" $layers) -}}
{{- end -}}
{{- with $gw.krakend.corsAllowOrigins -}}
{{- $_ := set $extra "security/cors" (dict "allow_origins" . "allow_methods" (list "GET" "POST" "PUT" "PATCH" "DELETE") "allow_headers" $gw.krakend.inputHeaders "max_age" "12h") -}}
{{- end -}}
{{- $config := dict "$schema" "https://www.krakend.io/schema/v2.7/krakend.json" "version" 3 "name" (printf "es1-%s" .Values.customer.name) "port" (int $gw.port) "timeout" $gw.krakend.timeout "output_encoding" "no-op" "endpoints" $endpoints "extra_config" $extra -}}
{{- toPrettyJson $config -}}
{{- end -}}
