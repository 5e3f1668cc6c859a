// Package version holds the provider version, stamped at build time with
//
//	-ldflags "-X es1/random-provider/version.Version=4.21.1"
package version

// Version is the semantic version of the provider (without a leading "v").
var Version string
