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
{{- with $gw.krakend.corsAllowOrigins -}}
{{- $_ := set $extra "security/cors" (dict "allow_origins" . "allow_methods" (list "GET" "POST" "PUT" "PATCH" "DELETE") "allow_headers" $gw.krakend.inputHeaders "max_age" "12h") -}}
{{- end -}}
{{- $config := dict "$schema" "https://www.krakend.io/schema/v2.7/krakend.json" "version" 3 "name" (printf "es1-%s" .Values.customer.name) "port" (int $gw.port) "timeout" $gw.krakend.timeout "output_encoding" "no-op" "endpoints" $endpoints "extra_config" $extra -}}
{{- toPrettyJson $config -}}
{{- end -}}
