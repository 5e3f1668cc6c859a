// Command pulumi-resource-random is the Pulumi resource plugin for the
// "random" package. schema.json and bridge-metadata.json are produced by
// pulumi-tfgen-random into this directory before building.
package main

import (
	"context"
	_ "embed"
	"encoding/json"

	pftfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"

	"es1/random-provider/provider"
	"es1/random-provider/version"
)

//go:embed schema.json
var schemaJSON []byte

//go:embed bridge-metadata.json
var bridgeMetadata []byte

// versionedSchema returns the generated schema with its "version" field set
// (tfgen leaves it out so that the generated file is version independent).
func versionedSchema() []byte {
	var spec map[string]json.RawMessage
	if err := json.Unmarshal(schemaJSON, &spec); err != nil {
		panic("embedded schema.json is not valid JSON: " + err.Error())
	}
	v, err := json.Marshal(version.Version)
	if err != nil {
		panic(err)
	}
	spec["version"] = v
	out, err := json.Marshal(spec)
	if err != nil {
		panic(err)
	}
	return out
}

func main() {
	pftfbridge.Main(context.Background(), "random", provider.Provider(bridgeMetadata),
		pftfbridge.ProviderMetadata{PackageSchema: versionedSchema()})
}
