package graph_test

import (
	"strings"
	"testing"

	"showcase/graph"
	"showcase/media"
)

// TestProductVideoSourcesValidated: a video's sources and poster are checked
// (allowed video types, absolute https URLs, length limits) before anything
// is stored; a refusal is a userError at the input's path and stores no row.
func TestProductVideoSourcesValidated(t *testing.T) {
	a, _ := newMediaAPI(t, 0)
	f := a.fixture("videos")
	video := func(url, mimeType string) map[string]any {
		return map[string]any{"videoSources": []map[string]any{{"url": url, "mimeType": mimeType}}}
	}
	add := func(a *testAPI, media ...map[string]any) (mediaAddOut, gqlResponse) {
		resp := a.post(f.sellerToken, mediaAddMutation, map[string]any{"p": f.productID, "media": media})
		var out mediaAddOut
		_ = jsonUnmarshalStrict(resp.Data, &out)
		return out, resp
	}
	const ok = "https://video.example.com/clip.mp4"
	long := "https://video.example.com/" + strings.Repeat("a", 2048)
	for name, tc := range map[string]struct {
		medium map[string]any
		field  string
		code   string
	}{
		"html type":              {video(ok, "text/html"), "media.0.videoSources.0.mimeType", "UNSUPPORTED_TYPE"},
		"prefix only":            {video(ok, "video/x-evil"), "media.0.videoSources.0.mimeType", "UNSUPPORTED_TYPE"},
		"video/ and nothing":     {video(ok, "video/"), "media.0.videoSources.0.mimeType", "UNSUPPORTED_TYPE"},
		"empty type":             {video(ok, ""), "media.0.videoSources.0.mimeType", "UNSUPPORTED_TYPE"},
		"a parameter not codecs": {video(ok, `video/mp4; charset=utf-8`), "media.0.videoSources.0.mimeType", "UNSUPPORTED_TYPE"},
		"type too long":          {video(ok, `video/mp4; codecs="`+strings.Repeat("a", 300)+`"`), "media.0.videoSources.0.mimeType", "TOO_LONG"},
		"http elsewhere":         {video("http://video.example.com/a.mp4", "video/mp4"), "media.0.videoSources.0.url", "INVALID"},
		"relative":               {video("/clip.mp4", "video/mp4"), "media.0.videoSources.0.url", "INVALID"},
		"javascript":             {video("javascript:alert(1)", "video/mp4"), "media.0.videoSources.0.url", "INVALID"},
		"data":                   {video("data:video/mp4;base64,AAAA", "video/mp4"), "media.0.videoSources.0.url", "INVALID"},
		"credentials":            {video("https://user:pw@video.example.com/a.mp4", "video/mp4"), "media.0.videoSources.0.url", "INVALID"},
		"space":                  {video("https://video.example.com/a b.mp4", "video/mp4"), "media.0.videoSources.0.url", "INVALID"},
		"empty url":              {video("", "video/mp4"), "media.0.videoSources.0.url", "REQUIRED"},
		"url too long":           {video(long, "video/mp4"), "media.0.videoSources.0.url", "TOO_LONG"},
		"no sources":             {map[string]any{"videoSources": []map[string]any{}}, "media.0.videoSources", "INVALID"},
		"same url twice":         {map[string]any{"videoSources": []map[string]any{{"url": ok, "mimeType": "video/mp4"}, {"url": ok, "mimeType": "video/webm"}}}, "media.0.videoSources.1.url", "INVALID"},
		"poster over http":       {map[string]any{"videoSources": []map[string]any{{"url": ok, "mimeType": "video/mp4"}}, "posterUrl": "http://cdn.example.com/p.jpg"}, "media.0.posterUrl", "INVALID"},
		"poster too long":        {map[string]any{"videoSources": []map[string]any{{"url": ok, "mimeType": "video/mp4"}}, "posterUrl": long}, "media.0.posterUrl", "TOO_LONG"},
		"poster without a video": {map[string]any{"url": "https://cdn.example.com/a.jpg", "posterUrl": "https://cdn.example.com/p.jpg"}, "media.0.posterUrl", "INVALID"},
		"a video's width":        {map[string]any{"videoSources": []map[string]any{{"url": ok, "mimeType": "video/mp4"}}, "width": 100}, "media.0.width", "INVALID"},
	} {
		t.Run(name, func(t *testing.T) {
			out, resp := add(a, tc.medium)
			ue := out.ProductMediaAdd.UserErrors
			if len(resp.Errors) > 0 || len(ue) != 1 || strings.Join(ue[0].Field, ".") != tc.field || ue[0].Code != tc.code || out.ProductMediaAdd.Product != nil {
				t.Fatalf("errors %+v, payload %+v; want one %s userError at %s", resp.Errors, out.ProductMediaAdd, tc.code, tc.field)
			}
			if ue[0].Message == "" {
				t.Error("empty message")
			}
			if n := a.count("product_media"); n != 0 {
				t.Errorf("%d media rows stored", n)
			}
		})
	}

	t.Run("accepted", func(t *testing.T) {
		out, resp := add(a, map[string]any{"videoSources": []map[string]any{
			{"url": ok, "mimeType": ` Video/MP4; Codecs="avc1.42E01E, mp4a.40.2"`},
			{"url": "https://video.example.com/clip.m3u8", "mimeType": "application/vnd.apple.mpegurl"},
			{"url": "http://127.0.0.1:8080/clip.webm", "mimeType": "video/webm"}, // loopback http: development only
		}, "posterUrl": "https://cdn.example.com/p.jpg"})
		if len(resp.Errors) > 0 || len(out.ProductMediaAdd.UserErrors) > 0 || out.ProductMediaAdd.Product == nil {
			t.Fatalf("errors %+v, payload %+v", resp.Errors, out.ProductMediaAdd)
		}
		e := out.ProductMediaAdd.Product.Media.Edges
		s := e[len(e)-1].Node.Sources
		if len(s) != 3 || s[0].MimeType != `video/mp4; codecs="avc1.42E01E, mp4a.40.2"` || s[1].MimeType != "application/vnd.apple.mpegurl" {
			t.Errorf("sources = %+v; want the types normalized", s)
		}
	})

	t.Run("loopback http in production", func(t *testing.T) {
		dir := t.TempDir()
		store, err := media.NewDir(dir, "")
		if err != nil {
			t.Fatal(err)
		}
		prod := newTestAPIWith(t, func(r *graph.Resolver) { r.Media = store; r.Production = true })
		pf := prod.fixture("prodvideos")
		f = pf
		out, resp := add(prod, video("http://127.0.0.1:8080/clip.webm", "video/webm"))
		if ue := out.ProductMediaAdd.UserErrors; len(resp.Errors) > 0 || len(ue) != 1 || strings.Join(ue[0].Field, ".") != "media.0.videoSources.0.url" {
			t.Fatalf("errors %+v, payload %+v; want the http URL refused", resp.Errors, out.ProductMediaAdd)
		}
	})
}
