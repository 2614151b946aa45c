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
        Path h = Charts.heatmap(tmp.resolve("h.png"), "NIAH", "context length", "depth (%)", List.of("256", "512", "1024"),
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
