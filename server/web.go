package main

import (
	"embed"
	"io/fs"
	"net/http"
)

// The reference storefront (GET /) and seller studio (GET /studio): plain ES
// modules on the public GraphQL API, no build step. uPlot 1.6.31 is vendored
// from npm (MIT, web/vendor/LICENSE.uplot).
//
//go:embed web
var webAssets embed.FS

func webPage(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := fs.ReadFile(webAssets, "web/"+name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(b)
	})
}

func webFiles() http.Handler {
	sub, _ := fs.Sub(webAssets, "web")
	files := http.StripPrefix("/web/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
