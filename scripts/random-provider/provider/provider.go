// Package provider describes how the Terraform random provider is exposed as
// the Pulumi "random" package. The mapping mirrors the one used by the
// official pulumi-random provider (v4): every random_* resource becomes
// random:index/randomXxx:RandomXxx in a single "index" module.
package provider

import (
	"bytes"
	"context"
	_ "embed" // import docs are embedded
	"errors"
	"fmt"
	"path/filepath"

	pftfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/terraform-providers/terraform-provider-random/shim"

	"es1/random-provider/version"
)

const (
	pkgName    = "random"
	moduleName = "index"
)

//go:embed doc/password-import.md
var passwordImportDoc []byte

//go:embed doc/string-import.md
var stringImportDoc []byte

// Provider builds the bridge ProviderInfo. bridgeMetadata is the content of
// bridge-metadata.json produced by tfgen (nil/empty when running tfgen itself).
func Provider(bridgeMetadata []byte) tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:            pftfbridge.ShimProvider(shim.NewProvider()),
		Name:         pkgName,
		Description:  "A Pulumi package to safely use randomness in Pulumi programs.",
		Keywords:     []string{"pulumi", "random"},
		License:      "Apache-2.0",
		Homepage:     "https://pulumi.io",
		Repository:   "https://github.com/pulumi/pulumi-random",
		Version:      version.Version,
		MetadataInfo: tfbridge.NewProviderMetadata(bridgeMetadata),
		DocRules:     &tfbridge.DocRuleInfo{EditRules: docEdits},
		Resources: map[string]*tfbridge.ResourceInfo{
			"random_password": {
				Docs: &tfbridge.DocInfo{ImportDetails: string(passwordImportDoc)},
			},
			"random_string": {
				// Some historical RandomString states were written without a schema
				// version marker. Treat them as version 1 so the upstream state
				// upgraders (which are idempotent for V1->V2/V3) run on them.
				PreStateUpgradeHook: func(args tfbridge.PreStateUpgradeHookArgs) (int64, resource.PropertyMap, error) {
					if args.PriorStateSchemaVersion == 0 {
						return 1, args.PriorState, nil
					}
					return args.PriorStateSchemaVersion, args.PriorState, nil
				},
				Docs: &tfbridge.DocInfo{ImportDetails: string(stringImportDoc)},
			},
			"random_bytes": {
				// random_bytes has no natural id attribute; use base64 like upstream.
				ComputeID: randomBytesID,
			},
		},
		JavaScript: &tfbridge.JavaScriptInfo{
			DevDependencies: map[string]string{
				"@types/node": "^10.0.0",
			},
			RespectSchemaVersion: true,
		},
		Python: pythonInfo(),
		Golang: &tfbridge.GolangInfo{
			ImportBasePath: filepath.Join(
				"github.com/pulumi/pulumi-random/sdk/",
				tfbridge.GetModuleMajorVersion(version.Version),
				"go",
				pkgName,
			),
			GenerateResourceContainerTypes: true,
			RespectSchemaVersion:           true,
		},
		CSharp: &tfbridge.CSharpInfo{
			RespectSchemaVersion: true,
			PackageReferences:    map[string]string{"Pulumi": "3.*"},
			Namespaces:           map[string]string{pkgName: "Random"},
		},
		EnableAccurateBridgePreview: true,
		EnableRawStateDelta:         true,
	}

	// random_foo_bar => random:index/randomFooBar:RandomFooBar
	mkToken := func(module, name string) (string, error) {
		return tokens.MakeStandard(pkgName)(module, "Random"+name)
	}
	info.MustComputeTokens(tokens.SingleModule("random_", moduleName, mkToken))
	info.MustApplyAutoAliases()

	return info
}

func pythonInfo() *tfbridge.PythonInfo {
	p := &tfbridge.PythonInfo{RespectSchemaVersion: true}
	p.PyProject.Enabled = true
	return p
}

func randomBytesID(_ context.Context, state resource.PropertyMap) (resource.ID, error) {
	const suffix = " (pulumi-random resource provider bug)"
	v, ok := state["base64"]
	if !ok {
		return "", errors.New("random_bytes state has no base64 property" + suffix)
	}
	// base64 is sensitive and therefore secret-wrapped; ids cannot carry secrets.
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	if !v.IsString() {
		return "", fmt.Errorf("random_bytes base64 property is %v, not a string%s", v.TypeString(), suffix)
	}
	return resource.ID(v.StringValue()), nil
}

// docEdits drops the Terraform-specific `taint` advice from the upstream docs.
func docEdits(defaults []tfbridge.DocsEdit) []tfbridge.DocsEdit {
	taint := []byte("To force a random result to be replaced, the `taint` command can be used to\n" +
		"produce a new result on the next run.")
	return append(defaults, tfbridge.DocsEdit{
		Path: "*",
		Edit: func(_ string, content []byte) ([]byte, error) {
			return bytes.ReplaceAll(content, taint, nil), nil
		},
	})
}
