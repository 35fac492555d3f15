package demo

import (
	"fmt"

	"github.com/lib/pq"
)

// seedLanguage is what the demo data says about each category (in
// seedCategories order) in another language the platform serves.
type seedLanguage struct {
	captions     []string // appended to video captions
	descriptions []string // appended to product descriptions
	live         []string // appended to live session titles
}

// seedChinese and seedIndonesian give the demo data text in Chinese and
// Indonesian, so that search can be tried in both.
var (
	seedChinese = seedLanguage{
		captions:     []string{"今日推荐：保湿精华，美妆护肤必备", "时尚穿搭分享，今天的搭配", "家居好物推荐，让生活更舒适", "数码电子新品开箱", "零食小吃测评，好吃到停不下来", "健身运动装备推荐", "宠物用品好物分享", "玩具开箱，孩子最爱"},
		descriptions: []string{"保湿精华，温和不刺激，适合敏感肌。", "时尚百搭，舒适透气。", "家居好物，简约耐用。", "数码电子，续航持久。", "零食小吃，香脆可口。", "健身运动，轻便舒适。", "宠物用品，安全无毒。", "益智玩具，安全环保。"},
		live:         []string{"美妆直播", "时尚直播", "家居直播", "数码直播", "零食直播", "健身直播", "宠物直播", "玩具直播"},
	}
	seedIndonesian = seedLanguage{
		captions:     []string{"Rahasia kulit glowing: perawatan kecantikan wajib punya", "Inspirasi busana dan gaya hari ini", "Perlengkapan rumah yang bikin nyaman", "Unboxing elektronik terbaru", "Camilan enak, bikin nagih", "Perlengkapan kebugaran dan olahraga", "Perlengkapan hewan peliharaan favorit", "Mainan anak paling seru"},
		descriptions: []string{"Perawatan kulit yang lembut, cocok untuk kulit sensitif.", "Busana nyaman untuk sehari-hari.", "Perlengkapan rumah yang awet.", "Elektronik dengan baterai tahan lama.", "Camilan renyah dan gurih.", "Perlengkapan olahraga yang ringan.", "Aman untuk hewan peliharaan.", "Mainan edukatif yang aman."},
		live:         []string{"Siaran langsung kecantikan", "Siaran langsung busana", "Siaran langsung rumah", "Siaran langsung elektronik", "Siaran langsung camilan", "Siaran langsung kebugaran", "Siaran langsung hewan", "Siaran langsung mainan"},
	}
	// seedAccented is appended to some product descriptions, so that
	// accent-insensitive search shows ("creme" finds "crème").
	seedAccented = []string{"Texture crème légère.", "Coupe élégante, façon café.", "Décor naïf et épuré.", "Qualité supérieure, garantie.", "Saveur crème brûlée.", "Énergie et santé.", "Pâtée préférée.", "Jouet créatif."}
)

// seedLanguagesLimit bounds the rows given other languages, so that large
// benchmark datasets load as fast as before.
const seedLanguagesLimit = 3000

// languages gives a share of the demo data Chinese and Indonesian text and
// accented words: a third of the videos a Chinese caption line and a third
// an Indonesian one; a quarter of the products each a Chinese, an
// Indonesian and an accented description line; live sessions a Chinese or
// Indonesian subtitle. The English text stays as it was (captions still name
// their first card's product; titles their category), so every rule of the
// demo data holds.
func (s *seeder) languages() error {
	n := len(seedCategories)
	for _, step := range []struct {
		name, sql string
		args      []any
	}{
		{"captions", `UPDATE contents SET caption = caption || ' · ' || CASE id % 3 WHEN 1 THEN ($1::text[])[(shop_id - 1) % $3 + 1] ELSE ($2::text[])[(shop_id - 1) % $3 + 1] END
			WHERE kind = 'VIDEO' AND id % 3 <> 0 AND id <= $4 AND shop_id IS NOT NULL`,
			[]any{pq.Array(seedChinese.captions), pq.Array(seedIndonesian.captions), n, seedLanguagesLimit}},
		{"descriptions", `UPDATE products SET description = description || ' ' || CASE id % 4 WHEN 1 THEN ($1::text[])[(shop_id - 1) % $4 + 1]
				WHEN 2 THEN ($2::text[])[(shop_id - 1) % $4 + 1] ELSE ($3::text[])[(shop_id - 1) % $4 + 1] END
			WHERE id % 4 <> 0 AND id <= $5`,
			[]any{pq.Array(seedChinese.descriptions), pq.Array(seedIndonesian.descriptions), pq.Array(seedAccented), n, seedLanguagesLimit}},
		{"live titles", `UPDATE contents SET title = title || ' · ' || CASE id % 2 WHEN 1 THEN ($1::text[])[(shop_id - 1) % $3 + 1] ELSE ($2::text[])[(shop_id - 1) % $3 + 1] END
			WHERE kind = 'LIVE' AND id <= $4 AND shop_id IS NOT NULL`,
			[]any{pq.Array(seedChinese.live), pq.Array(seedIndonesian.live), n, seedLanguagesLimit}},
	} {
		if _, err := s.tx.ExecContext(s.ctx, step.sql, step.args...); err != nil {
			return fmt.Errorf("seed %s in other languages: %w", step.name, err)
		}
	}
	return nil
}
