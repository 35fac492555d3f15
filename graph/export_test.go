package graph

// SetPriming turns primeVariants on or off for a benchmark's comparison.
func SetPriming(on bool) { noPriming = !on }
