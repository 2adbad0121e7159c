package org.mkdt.report;

import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One self-contained HTML page per run: the results table, the chart and the run's pictures
 * embedded as data URIs, and the configuration, so the file can be mailed or archived alone.
 */
public final class ReportPage {
    private final String title;
    private final StringBuilder body = new StringBuilder();

    public ReportPage(String title) {
        this.title = title;
    }

    public ReportPage paragraph(String text) {
        body.append("<p>").append(escape(text)).append("</p>\n");
        return this;
    }

    public ReportPage heading(String text) {
        body.append("<h2>").append(escape(text)).append("</h2>\n");
        return this;
    }

    /** A markdown table (as {@link Results#markdown()} writes it) rendered as HTML. */
    public ReportPage markdownTable(String markdown) {
        StringBuilder t = new StringBuilder("<table>\n");
        boolean header = true;
        for (String line : markdown.split("\n")) {
            if (!line.startsWith("|")) {
                if (!line.isBlank()) body.append("<p>").append(escape(line)).append("</p>\n");
                continue;
            }
            if (line.startsWith("|---")) continue;
            String tag = header ? "th" : "td";
            t.append("<tr>");
            String[] cells = line.substring(1, line.length() - (line.endsWith("|") ? 1 : 0)).split("\\|");
            for (String c : cells) t.append('<').append(tag).append('>').append(escape(c.trim())).append("</").append(tag).append('>');
            t.append("</tr>\n");
            header = false;
        }
        body.insert(body.length(), t.append("</table>\n"));
        return this;
    }

    public ReportPage image(String caption, byte[] png) {
        body.append("<figure><img alt=\"").append(escape(caption)).append("\" src=\"data:image/png;base64,")
                .append(Base64.getEncoder().encodeToString(png)).append("\"><figcaption>").append(escape(caption)).append("</figcaption></figure>\n");
        return this;
    }

    public ReportPage preformatted(String text) {
        body.append("<pre>").append(escape(text)).append("</pre>\n");
        return this;
    }

    public String html() {
        return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + escape(title) + "</title>\n<style>"
                + "body{font-family:sans-serif;max-width:960px;margin:2em auto;padding:0 1em}"
                + "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:4px 10px;text-align:right}"
                + "td:first-child,th:first-child{text-align:left}img{max-width:100%}pre{background:#f4f4f4;padding:1em;overflow:auto}"
                + "</style></head><body>\n<h1>" + escape(title) + "</h1>\n" + body + "</body></html>\n";
    }

    static String escape(String s) {
        Map<Character, String> m = new LinkedHashMap<>();
        m.put('&', "&amp;");
        m.put('<', "&lt;");
        m.put('>', "&gt;");
        m.put('"', "&quot;");
        StringBuilder sb = new StringBuilder();
        for (char c : s.toCharArray()) sb.append(m.getOrDefault(c, String.valueOf(c)));
        return sb.toString();
    }
}
