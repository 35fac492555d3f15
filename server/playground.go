package main

import (
	"embed"
	"net/http"

	"github.com/99designs/gqlgen/graphql/playground"
)

// GraphiQL and React are vendored from their npm packages (graphiql@4.1.2,
// react@18.2.0, react-dom@18.2.0, the files and SRI hashes gqlgen pins) so
// the playground works without reaching a CDN.
//
//go:embed playground/*.js playground/*.css
var playgroundAssets embed.FS

const playgroundAssetsPath = "/playground/"

// playgroundHandler serves GraphiQL against endpoint, with local assets.
func playgroundHandler(endpoint string) http.Handler {
	return playground.Handler("Showcase", endpoint,
		// ?query=…&headers=… links open the playground ready to run.
		playground.WithGraphiqlPersistStateInURL(true),
		playground.WithGraphiqlVersion(
			playgroundAssetsPath+"graphiql.min.js", playgroundAssetsPath+"graphiql.min.css",
			"sha256-hnImuor1znlJkD/FOTL3jayfS/xsyNoP04abi8bFJWs=", "sha256-MEh+B2NdMSpj9kexQNN3QKc8UzMrCXW/Sx/phcpuyIU="),
		playground.WithGraphiqlReactVersion(
			playgroundAssetsPath+"react.production.min.js", playgroundAssetsPath+"react-dom.production.min.js",
			"sha256-S0lp+k7zWUMk2ixteM6HZvu8L9Eh//OVrt+ZfbCpmgY=", "sha256-IXWO0ITNDjfnNXIu5POVfqlgYoop36bDzhodR6LW5Pc="),
	)
}

// playgroundFiles serves the vendored assets, cacheable for a day.
func playgroundFiles() http.Handler {
	files := http.FileServerFS(playgroundAssets)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	})
}
