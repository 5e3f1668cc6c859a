// Package shim exposes the Plugin Framework provider of the Terraform random
// provider. The provider constructor lives in an internal package, so this
// shim must be a module whose path sits under
// github.com/terraform-providers/terraform-provider-random/.
package shim

import (
	pfprovider "github.com/hashicorp/terraform-plugin-framework/provider"

	tfrandom "github.com/terraform-providers/terraform-provider-random/internal/provider"
)

// NewProvider returns a fresh instance of the upstream random provider.
func NewProvider() pfprovider.Provider {
	return tfrandom.New()
}
