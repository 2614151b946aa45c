package dev.think4j.eval;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChartsTest {
    @TempDir
    Path tmp;

    @Test
    void heatmapParetoAndLinesAreReadablePngs() throws Exception {
        double[][] grid = {{1, 1, 0.5}, {1, 0.25, 0}, {1, Double.NaN, 0}};
        Path h = Charts.heatmap(tmp.resolve("h.png"), "NIAH", "context length", "depth (%)", "score", List.of("256", "512", "1024"),
                List.of("0", "50", "100"), grid, true);
        Path p = Charts.pareto(tmp.resolve("p.png"), "pareto", "ratio", "ppl", List.of(new Charts.Point("full", 1, 3),
                new Charts.Point("think:0.5", 0.75, 3.2), new Charts.Point("bad", 0.8, 4)));
        Path l = Charts.lines(tmp.resolve("l.png"), "spectrum", "i", "s", List.of(new Charts.Series("layer 0", new double[] {1, 2, 3},
                new double[] {1, 0.1, 0.01})), true);
        for (Path f : List.of(h, p, l)) {
            assertThat(Files.size(f)).isGreaterThan(1000);
            BufferedImage img = ImageIO.read(f.toFile());
            assertThat(img.getWidth()).isGreaterThanOrEqualTo(640);
            assertThat(distinctColours(img)).isGreaterThan(10);
        }
        Report r = new Report("t").image("h", tmp, h);
        assertThat(r.markdown()).contains("![h](h.png)");
    }

    @Test
    void crowdedLabelsAreThinnedAtPowerOfTwoSteps() {
        List<String> few = List.of("0", "1", "2");
        assertThat(Charts.thin(few, 600, 28)).isSameAs(few);
        List<String> many = java.util.stream.IntStream.range(0, 32).mapToObj(i -> i % 8 == 0 ? "h" + i / 8 + ":0" : String.valueOf(i % 8))
                .toList();
        List<String> thinned = Charts.thin(many, 300, 28); // 32 labels x 28 px need 3x the room: every 4th is kept
        assertThat(thinned).hasSize(32);
        assertThat(thinned.stream().filter(l -> !l.isBlank()).toList()).containsExactly("h0:0", "4", "h1:0", "4", "h2:0", "4", "h3:0", "4");
        // blanks stay distinct within a step so that the axis does not merge categories
        assertThat(new java.util.HashSet<>(thinned.subList(1, 4))).hasSize(3);
    }

    @Test
    void scaleBoundsAndTickPatternsAreRound() {
        assertThat(Charts.round(18.832111633832188, true)).isEqualTo(19.0);
        assertThat(Charts.round(0.41561310749445385, false)).isEqualTo(0.41);
        assertThat(Charts.round(0.0012345, true)).isEqualTo(0.0013);
        assertThat(Charts.round(-3.21, false)).isEqualTo(-3.3);
        assertThat(Charts.pattern(0.3)).isEqualTo("#,##0.###");
        assertThat(Charts.pattern(100)).isEqualTo("#,##0");
        assertThat(Charts.pattern(0.002)).isEqualTo("#,##0.#####");
        assertThat(new java.text.DecimalFormat(Charts.pattern(0.3)).format(0.02)).isEqualTo("0.02");
    }

    @Test
    void coincidingSeriesAreDetectedAndStillDrawn() throws Exception {
        Charts.Series a = new Charts.Series("full", new double[] {0, 50, 100}, new double[] {0, 0, 0});
        Charts.Series b = new Charts.Series("think:0.5", new double[] {0, 50, 100}, new double[] {0, 0, 0});
        Charts.Series c = new Charts.Series("snapkv:64", new double[] {0, 50, 100}, new double[] {1, 0.5, 1});
        assertThat(Charts.overlap(List.of(a, b))).isTrue();
        assertThat(Charts.overlap(List.of(a, c))).isFalse();
        Path f = Charts.lines(tmp.resolve("flat.png"), "recall", "depth", "accuracy", List.of(a, b), false, 0.0, 1.0);
        BufferedImage img = ImageIO.read(f.toFile());
        // the two series' colours (xchart's first two: blue, then orange) both show although their values are equal
        assertThat(hasColourNear(img, new java.awt.Color(0x23, 0x5E, 0xF7))).isTrue();
        assertThat(hasColourNear(img, new java.awt.Color(0xFF, 0xC0, 0x30))).isTrue();
    }

    @Test
    void barsWriteAPng() throws Exception {
        java.util.Map<String, double[]> v = new java.util.LinkedHashMap<>();
        v.put("full", new double[] {0, 12.5});
        v.put("think:0.5", new double[] {Double.NaN, 10});
        Path f = Charts.bars(tmp.resolve("b.png"), "LongBench", "dataset", "score", List.of("multi_news", "average"), v, 0.0, 100.0);
        assertThat(distinctColours(ImageIO.read(f.toFile()))).isGreaterThan(10);
    }

    @Test
    void tableCellsAndHeadersEscapePipes() {
        String md = new Report("t").table(List.of("kv", "logit loss ||QK^T||_F"), List.of(List.of("a|b", "line\nbreak"))).markdown();
        assertThat(md).contains("| kv | logit loss \\|\\|QK^T\\|\\|_F |");
        assertThat(md).contains("| a\\|b | line break |");
        // every table line has exactly as many unescaped separators as the header
        for (String line : md.lines().filter(l -> l.startsWith("|")).toList()) {
            assertThat(line.replace("\\|", "").chars().filter(ch -> ch == '|').count()).as(line).isEqualTo(3);
        }
    }

    private static boolean hasColourNear(BufferedImage img, java.awt.Color c) {
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth() - 200; x++) { // left of the legend
                int rgb = img.getRGB(x, y);
                int dr = ((rgb >> 16) & 0xFF) - c.getRed();
                int dg = ((rgb >> 8) & 0xFF) - c.getGreen();
                int db = (rgb & 0xFF) - c.getBlue();
                if (dr * dr + dg * dg + db * db < 40 * 40) {
                    return true;
                }
            }
        }
        return false;
    }

    private static long distinctColours(BufferedImage img) {
        java.util.Set<Integer> s = new java.util.HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 3) {
            for (int x = 0; x < img.getWidth(); x += 3) {
                s.add(img.getRGB(x, y));
            }
        }
        return s.size();
    }
}
