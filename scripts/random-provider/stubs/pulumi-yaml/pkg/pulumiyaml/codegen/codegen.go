// Package codegen stands in for pulumi-yaml's PCL -> YAML program generator.
//
// pulumi-terraform-bridge links it only to translate Terraform examples in the
// docs into Pulumi YAML (tfgen example conversion, tf2pulumi). The random
// provider build runs tfgen with --skip-examples, and the resource plugin never
// converts programs, so generation is reported as unsupported.
package codegen

import (
	"errors"

	"github.com/hashicorp/hcl/v2"
	"github.com/pulumi/pulumi/pkg/v3/codegen/pcl"
)

// ErrUnsupported is returned by GenerateProgram.
var ErrUnsupported = errors.New("pulumi-yaml program generation is not included in this build")

// GenerateProgram has the signature of pulumi-yaml's GenerateProgram and always fails.
func GenerateProgram(_ *pcl.Program) (map[string][]byte, hcl.Diagnostics, error) {
	return nil, nil, ErrUnsupported
}
