package storetest_test

import (
	"net/url"
	"strings"
)

func replaceDB(dsn, db string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + strings.TrimPrefix(db, "/")
	return u.String()
}
