// Command pulumi-tfgen-random generates the Pulumi package schema and the
// bridge metadata for the random provider, e.g.
//
//	pulumi-tfgen-random schema --skip-examples --out cmd/pulumi-resource-random
package main

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	"es1/random-provider/provider"
)

func main() {
	// No prior metadata: auto-alias history starts from the current (v4) schema.
	tfgen.Main("random", provider.Provider(nil))
}
