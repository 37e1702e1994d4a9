// Package layering holds the test that keeps the module's packages in their
// layers (ARCHITECTURE.md, "Packages"): it fails when a package imports one
// it must not, the way pebble's forbidden-imports test does. It has no code.
package layering
