"""Writes a WordPress export (WXR 1.2) of POSTS posts with COMMENTS comments in all, threaded
(every third answers the one before), to standard output, for bench/import. With BYTES set,
posts get long bodies until the file reaches about that size.

    python3 bench/wxr.py POSTS COMMENTS [BYTES]
"""
import sys

posts, comments = int(sys.argv[1]), int(sys.argv[2])
target = int(sys.argv[3]) if len(sys.argv) > 3 else 0
out = sys.stdout
words = "harbour council ferry tide market school bridge river evening winter quay".split()
paragraph = " ".join(words * 8) + "."
# Each post's body: enough paragraphs that the file reaches `target` bytes.
per_post = max(1, (target // posts) // (len(paragraph) + 2)) if target else 3
body = "\n\n".join([paragraph] * per_post)
out.write("""<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
 xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
<title>Generated</title><link>https://generated.example</link>
<wp:wxr_version>1.2</wp:wxr_version><wp:base_site_url>https://generated.example</wp:base_site_url>
""")
for a in range(1, 11):
    out.write(f"<wp:author><wp:author_id>{a}</wp:author_id><wp:author_login>author{a}</wp:author_login>"
              f"<wp:author_display_name><![CDATA[Author {a}]]></wp:author_display_name></wp:author>\n")
for c in ("local", "business", "sport"):
    out.write(f"<wp:category><wp:category_nicename>{c}</wp:category_nicename>"
              f"<wp:cat_name><![CDATA[{c.title()}]]></wp:cat_name></wp:category>\n")
comment_id = 0
for p in range(1, posts + 1):
    day = 1 + p % 28
    month = 1 + (p // 28) % 12
    year = 2010 + (p // 336) % 15
    n = comments // posts + (1 if p <= comments % posts else 0)
    out.write(f"""<item><title><![CDATA[Story {p}]]></title>
<link>https://generated.example/{year}/{month:02}/story-{p}/</link>
<guid isPermaLink="false">https://generated.example/?p={p}</guid>
<dc:creator><![CDATA[author{1 + p % 10}]]></dc:creator>
<content:encoded><![CDATA[{body}]]></content:encoded><excerpt:encoded><![CDATA[]]></excerpt:encoded>
<wp:post_id>{p}</wp:post_id><wp:post_date_gmt>{year}-{month:02}-{day:02} 10:00:00</wp:post_date_gmt>
<wp:comment_status>open</wp:comment_status><wp:post_name>story-{p}</wp:post_name>
<wp:status>publish</wp:status><wp:post_type>post</wp:post_type><wp:is_sticky>0</wp:is_sticky>
<category domain="category" nicename="{('local', 'business', 'sport')[p % 3]}"><![CDATA[{('Local', 'Business', 'Sport')[p % 3]}]]></category>
<category domain="post_tag" nicename="tag-{p % 50}"><![CDATA[Tag {p % 50}]]></category>
""")
    first = comment_id + 1
    for r in range(n):
        comment_id += 1
        parent = comment_id - 1 if r % 3 == 2 else 0
        out.write(f"""<wp:comment><wp:comment_id>{comment_id}</wp:comment_id>
<wp:comment_author><![CDATA[Reader {r % 97}]]></wp:comment_author>
<wp:comment_author_email>reader{r % 97}@example.com</wp:comment_author_email>
<wp:comment_author_IP>192.0.2.{r % 250}</wp:comment_author_IP>
<wp:comment_date_gmt>{year}-{month:02}-{day:02} 11:{r % 60:02}:00</wp:comment_date_gmt>
<wp:comment_content><![CDATA[Reply {r} to story {p}: the {words[r % len(words)]} again.
A second line.]]></wp:comment_content>
<wp:comment_approved>1</wp:comment_approved><wp:comment_type>comment</wp:comment_type>
<wp:comment_parent>{parent}</wp:comment_parent><wp:comment_user_id>0</wp:comment_user_id></wp:comment>
""")
    out.write("</item>\n")
out.write("</channel>\n</rss>\n")
