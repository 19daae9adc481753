{{/* vim: set filetype=mustache: */}}
{{/*
Expand the name of the chart: the name of most objects (default "trust-manager").
*/}}
{{- define "trust-manager.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Name of the webhook Deployment, its pods' "app" label and its PodDisruptionBudget.
*/}}
{{- define "trust-manager.webhook.name" -}}
{{- printf "%s-webhook" (include "trust-manager.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Create chart name and version as used by the chart label.
*/}}
{{- define "trust-manager.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Namespace for all namespaced resources of the chart: .Values.namespace or the release namespace.
This gets around a problem within helm discussed here https://github.com/helm/helm/issues/5358
*/}}
{{- define "trust-manager.namespace" -}}
{{- .Values.namespace | default .Release.Namespace -}}
{{- end -}}

{{/*
Get Values.app.trust.namespace as a templated value.
*/}}
{{- define "trust-manager.trust.namespace" -}}
{{- tpl .Values.app.trust.namespace . -}}
{{- end -}}

{{/*
The namespaces, besides the trust namespace, that Bundle sources may name (flag --source-namespaces):
app.trust.additionalSourceNamespaces without duplicates and without the trust namespace, comma-separated.
*/}}
{{- define "trust-manager.additionalSourceNamespaces" -}}
{{- $trust := include "trust-manager.trust.namespace" . -}}
{{- $namespaces := list -}}
{{- range .Values.app.trust.additionalSourceNamespaces -}}
{{- $ns := tpl . $ -}}
{{- if ne $ns $trust -}}
{{- $namespaces = append $namespaces $ns -}}
{{- end -}}
{{- end -}}
{{- $namespaces | uniq | join "," -}}
{{- end -}}

{{/*
Every namespace Bundle sources may be read from (RBAC): the trust namespace first, then the others.
*/}}
{{- define "trust-manager.sourceNamespaces" -}}
{{- $all := list (include "trust-manager.trust.namespace" .) -}}
{{- with include "trust-manager.additionalSourceNamespaces" . -}}
{{- $all = concat $all (splitList "," .) -}}
{{- end -}}
{{- $all | join "," -}}
{{- end -}}

{{/*
The ServiceAccount used by the controller (and, without a token, by the webhook).
*/}}
{{- define "trust-manager.serviceAccountName" -}}
{{- .Values.serviceAccount.name | default (include "trust-manager.name" .) -}}
{{- end -}}

{{/*
The Service name, the DNS name of the webhook and of its certificate.
*/}}
{{- define "trust-manager.webhook.dnsName" -}}
{{- printf "%s.%s.svc" (include "trust-manager.name" .) (include "trust-manager.namespace" .) -}}
{{- end -}}

{{/*
Common labels
*/}}
{{- define "trust-manager.labels" -}}
app.kubernetes.io/name: {{ include "trust-manager.name" . }}
helm.sh/chart: {{ include "trust-manager.chart" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with include "trust-manager.commonLabels" . }}
{{ . }}
{{- end }}
{{- end -}}

{{/*
commonLabels over global.commonLabels (umbrella charts), as YAML; empty when neither is set.
*/}}
{{- define "trust-manager.commonLabels" -}}
{{- $labels := merge (deepCopy (.Values.commonLabels | default dict)) (.Values.global.commonLabels | default dict) -}}
{{- if $labels -}}
{{- toYaml $labels -}}
{{- end -}}
{{- end -}}

{{/*
global.imagePullSecrets (umbrella charts) followed by imagePullSecrets, without duplicates, as YAML;
empty when neither is set. On the ServiceAccount (as upstream) and on both pod specs, so they also
apply with serviceAccount.create=false.
*/}}
{{- define "trust-manager.imagePullSecrets" -}}
{{- $secrets := concat (.Values.global.imagePullSecrets | default list) (.Values.imagePullSecrets | default list) | uniq -}}
{{- if $secrets -}}
{{- toYaml $secrets -}}
{{- end -}}
{{- end -}}

{{/*
The disruption settings of a PodDisruptionBudget: (tuple <pdb values> <replicas> <values path>).
Neither minAvailable nor maxUnavailable set: minAvailable 1, or maxUnavailable 1 when fewer than two
replicas run (minAvailable 1 of 1 would block every node drain). Explicit settings that always
block a drain fail the install.
*/}}
{{- define "trust-manager.pdbDisruption" -}}
{{- $pdb := index . 0 -}}
{{- $replicas := index . 1 -}}
{{- $path := index . 2 -}}
{{- /* The replica count when the chart knows it: a number, or null (the Kubernetes default, 1). */ -}}
{{- $known := or (kindIs "float64" $replicas) (kindIs "int64" $replicas) (kindIs "int" $replicas) (kindIs "invalid" $replicas) -}}
{{- $count := ternary 1 (int $replicas) (kindIs "invalid" $replicas) -}}
{{- $hasMin := hasKey $pdb "minAvailable" -}}
{{- $hasMax := hasKey $pdb "maxUnavailable" -}}
{{- if and $hasMin $hasMax -}}
{{- fail (printf "ERROR: set only one of %s.minAvailable and %s.maxUnavailable" $path $path) -}}
{{- end -}}
{{- if $hasMin -}}
{{- $min := $pdb.minAvailable | toString -}}
{{- if or (eq $min "100%") (and $known (not (hasSuffix "%" $min)) (ge (atoi $min) $count)) -}}
{{- fail (printf "ERROR: %s.minAvailable=%s leaves no pod that may be evicted (%d replica(s)), so it blocks every node drain: lower it, or set maxUnavailable instead" $path $min $count) -}}
{{- end -}}
minAvailable: {{ $pdb.minAvailable }}
{{- else if $hasMax -}}
{{- $max := $pdb.maxUnavailable | toString -}}
{{- if or (eq $max "0") (eq $max "0%") -}}
{{- fail (printf "ERROR: %s.maxUnavailable=%s blocks every node drain: set it to at least 1" $path $max) -}}
{{- end -}}
maxUnavailable: {{ $pdb.maxUnavailable }}
{{- else if and $known (lt $count 2) -}}
maxUnavailable: 1 # one replica: minAvailable 1 would block every node drain
{{- else -}}
minAvailable: 1 # Default value because minAvailable and maxUnavailable are not set
{{- end -}}
{{- end -}}

{{/*
Util function for generating an image reference.
Calling convention: (tuple <imageValues> <imageRegistry> <imageNamespace> <defaultReference>)
- repository = imageValues.repository if set, else <imageRegistry>/<imageNamespace>/<imageValues.name>
  (empty parts are left out);
- the deprecated imageValues.registry, if set, is prepended to the repository in both cases;
- then ":<tag>@<digest>", ":<tag>", "@<digest>", or <defaultReference> (":<tag>" or "@<digest>").
*/}}
{{- define "trust-manager.imageReference" -}}
{{- if ne (len .) 4 -}}
{{- fail (printf "ERROR: template \"trust-manager.imageReference\" expects (tuple <imageValues> <imageRegistry> <imageNamespace> <defaultReference>), got %d arguments" (len .)) -}}
{{- end -}}
{{- $image := index . 0 -}}
{{- $imageRegistry := index . 1 | default "" -}}
{{- $imageNamespace := index . 2 | default "" -}}
{{- $defaultReference := index . 3 -}}
{{- $repository := "" -}}
{{- if $image.repository -}}
{{- $repository = $image.repository -}}
{{- else -}}
{{- $repository = required "ERROR: image.name must be set when image.repository is empty" $image.name -}}
{{- if $imageNamespace -}}
{{- $repository = printf "%s/%s" $imageNamespace $repository -}}
{{- end -}}
{{- if $imageRegistry -}}
{{- $repository = printf "%s/%s" $imageRegistry $repository -}}
{{- end -}}
{{- end -}}
{{- if $image.registry -}}
{{- $repository = printf "%s/%s" $image.registry $repository -}}
{{- end -}}
{{- $repository -}}
{{- if and $image.tag $image.digest -}}
{{- printf ":%v@%v" $image.tag $image.digest -}}
{{- else if $image.tag -}}
{{- printf ":%v" $image.tag -}}
{{- else if $image.digest -}}
{{- printf "@%v" $image.digest -}}
{{- else -}}
{{- $defaultReference -}}
{{- end -}}
{{- end -}}

{{/*
The trust-manager image (controller and webhook): tag defaults to the chart's appVersion.
*/}}
{{- define "trust-manager.image" -}}
{{- include "trust-manager.imageReference" (tuple .Values.image .Values.imageRegistry .Values.imageNamespace (printf ":%s" .Chart.AppVersion)) -}}
{{- end -}}

{{/*
The default CA package image: quay.io/jetstack/trust-pkg-debian-trixie:<package version> by default.
*/}}
{{- define "trust-manager.defaultPackageImage" -}}
{{- include "trust-manager.imageReference" (tuple .Values.defaultPackageImage .Values.imageRegistry .Values.imageNamespace .Values.defaultPackageImage._defaultReference) -}}
{{- end -}}

{{/*
The rules trust-manager needs in every namespace it writes targets to: ConfigMaps, Events and,
when secret targets are enabled, the authorised Secrets. Used by the ClusterRole (no
app.targetNamespaces) or by one Role per target namespace.
*/}}
{{- define "trust-manager.rbac.namespacedRules" -}}
- apiGroups:
  - ""
  resources:
  - configmaps
  verbs: ["get", "list", "create", "patch", "watch", "delete"]
- apiGroups:
  - ""
  resources:
  - events
  verbs: ["create", "patch"]
- apiGroups:
  - events.k8s.io
  resources:
  - events
  verbs: ["create", "patch"]
{{- if .Values.secretTargets.enabled }}
{{- if not (or .Values.secretTargets.authorizedSecretsAll .Values.secretTargets.authorizedSecrets) }}
{{- fail "ERROR: secretTargets.enabled=true needs secretTargets.authorizedSecrets (the names of the Secrets trust-manager may write) or secretTargets.authorizedSecretsAll=true: without either, trust-manager has no permission to watch target Secrets and never becomes ready" }}
{{- end }}
{{- if .Values.secretTargets.authorizedSecretsAll }}
- apiGroups:
  - ""
  resources:
  - secrets
  verbs: ["get", "list", "create", "patch", "watch", "delete"]
{{- else if .Values.secretTargets.authorizedSecrets }}
{{- /* As upstream: the controller watches target Secrets by label across namespaces, which RBAC
       cannot limit by name, so reads are cluster-wide; writes stay limited to the named Secrets. */}}
- apiGroups:
  - ""
  resources:
  - secrets
  verbs: ["get", "list", "watch"]
- apiGroups:
  - ""
  resources:
  - secrets
  verbs: ["create", "patch", "delete"]
  resourceNames:
  {{- range .Values.secretTargets.authorizedSecrets }}
  - {{ . | quote }}
  {{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
Pod-level settings shared by the controller and the webhook pods.
*/}}
{{- define "trust-manager.podSchedulingSpec" -}}
{{- with .Values.priorityClassName | default .Values.global.priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
{{- with include "trust-manager.imagePullSecrets" . }}
imagePullSecrets:
  {{- . | nindent 2 }}
{{- end }}
{{- with .Values.podSecurityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
