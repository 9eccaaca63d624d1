package web

// Normalize is normalize, for tests.
var Normalize = normalize
