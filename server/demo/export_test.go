package demo

import "encoding/json"

// CategoriesJSON is the demo categories' words as JSON, {"beauty":
// {"tags": [...], "nouns": [...]}, ...}, for the demo coherence checks.
func CategoriesJSON() string {
	out := map[string]map[string][]string{}
	for _, c := range seedCategories {
		out[c.Name] = map[string][]string{"tags": c.Tags, "nouns": c.Nouns}
	}
	b, err := json.Marshal(out)
	if err != nil {
		panic(err)
	}
	return string(b)
}
