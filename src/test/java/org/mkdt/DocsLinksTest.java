package org.mkdt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every link in the project's Markdown resolves inside a clone: relative links name files or
 * folders that exist under the repository root (never outside it), their #anchors name a
 * heading of the target (GitHub's slugs), and the repository paths the prose names in code
 * spans (scripts/..., docs/..., src/..., kernels/...) exist, placeholders (STEM, NAME, DIR, FILE) aside.
 */
class DocsLinksTest {
    static final Path ROOT = Path.of("").toAbsolutePath();
    static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");
    static final Pattern CODE_PATH = Pattern.compile("`((?:scripts|docs|src|kernels|\\.ci)/[A-Za-z0-9_./-]+)");
    static final Pattern FENCE = Pattern.compile("```.*?```", Pattern.DOTALL);

    @Test
    void everyLinkAndNamedPathResolvesInsideTheRepository() throws IOException {
        List<Path> docs = markdownFiles();
        assertTrue(docs.size() >= 6, "found only " + docs);
        List<String> broken = new ArrayList<>();
        for (Path doc : docs) {
            String text = Files.readString(doc);
            Matcher m = LINK.matcher(text);
            while (m.find()) {
                String problem = check(doc, m.group(1));
                if (problem != null) broken.add(ROOT.relativize(doc) + ": " + m.group(1) + ": " + problem);
            }
            Matcher c = CODE_PATH.matcher(FENCE.matcher(text).replaceAll(""));
            while (c.find()) {
                String path = c.group(1).replaceAll("[.]+$", "");
                if (path.matches(".*\\b(STEM|NAME|DIR|FILE)\\b.*")) continue; // a placeholder the prose explains
                if (!Files.exists(ROOT.resolve(path))) broken.add(ROOT.relativize(doc) + ": `" + path + "` does not exist");
            }
        }
        assertEquals(List.of(), broken);
    }

    @Test
    void theCheckerCatchesALinkOutOfTheCloneAndAMissingAnchor() throws IOException {
        Path readme = ROOT.resolve("README.md");
        assertTrue(check(readme, "../shared/docs/mkdt-spec.md").contains("outside"));
        assertTrue(check(readme, "docs/formats.md#no-such-heading").contains("no heading"));
        assertTrue(check(readme, "docs/absent.md").contains("does not exist"));
        assertEquals(null, check(readme, "docs/formats.md#in-pytorch"));
        assertEquals("artefacts-orgmkdtdataartefacts", slug("Artefacts (`org.mkdt.data.Artefacts`)"));
    }

    /** Null when {@code target}, linked from {@code doc}, resolves; else what is wrong. */
    static String check(Path doc, String target) throws IOException {
        if (target.matches("^[a-z]+:.*")) return null; // http(s), mailto: outside by design
        int hash = target.indexOf('#');
        String path = hash < 0 ? target : target.substring(0, hash), anchor = hash < 0 ? null : target.substring(hash + 1);
        Path file = path.isEmpty() ? doc : doc.getParent().resolve(path).normalize();
        if (!file.startsWith(ROOT)) return "points outside the repository";
        if (!Files.exists(file)) return "does not exist";
        if (anchor != null && file.toString().endsWith(".md") && !headings(file).contains(anchor)) return "no heading #" + anchor;
        return null;
    }

    static Set<String> headings(Path md) throws IOException {
        Set<String> out = new HashSet<>();
        for (String line : FENCE.matcher(Files.readString(md)).replaceAll("").split("\n")) {
            if (line.matches("^#{1,6} .*")) out.add(slug(line.replaceFirst("^#+ ", "")));
        }
        return out;
    }

    /** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
    static String slug(String heading) {
        return heading.strip().toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
    }

    static List<Path> markdownFiles() throws IOException {
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.walk(ROOT)) {
            s.filter(p -> p.toString().endsWith(".md"))
             .filter(p -> {
                 String r = ROOT.relativize(p).toString();
                 return !r.startsWith("target") && !r.startsWith("runs") && !r.startsWith(".git") && !r.contains("node_modules");
             })
             .forEach(out::add);
        }
        return out;
    }
}
