package dev.llmj.cli;

import dev.llmj.LlmjException;
import dev.llmj.io.AtomicFiles;
import dev.llmj.io.Json;
import dev.llmj.train.Trainer;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.svg.SVGGraphics2D;
import org.jfree.svg.SVGHints;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.Shape;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Rectangle2D;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * {@code loss.svg} in a model folder: train and validation loss against step. It is redrawn
 * from the whole {@code train-log.jsonl} at each evaluation, so after {@code --resume} it still
 * shows the run from step one. JFreeChart lays the chart out and JFreeSVG records its Java2D
 * drawing as SVG text: no window, no display.
 */
final class LossChart {
    static final String FILE = "loss.svg";
    /** The ids of the two series' lines in the SVG (a {@code <g>} around one {@code <path>} each), for tests and for styling. */
    static final String TRAIN_ID = "train-loss", VAL_ID = "val-loss";
    private static final Color TRAIN = new Color(31, 119, 180), VAL = new Color(255, 127, 14), GRID = new Color(221, 221, 221);
    private static final int WIDTH = 720, HEIGHT = 440;

    static {
        // the chart uses AWT's fonts and geometry only; headless keeps any platform from opening a window or asking for a display
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
        // draw the vertical "loss" label as rotated text, not as glyph outlines: the SVG then holds the word itself
        org.jfree.chart.text.TextUtils.setUseDrawRotatedStringWorkaround(false);
    }

    private final Path dir;
    private final String title, subtitle;
    private final PrintWriter err;
    private boolean drawn, failed;

    LossChart(Path dir, String title, String subtitle, PrintWriter err) {
        this.dir = dir;
        this.title = title;
        this.subtitle = subtitle;
        this.err = err;
    }

    /**
     * Redraws the chart from the log. A failure (say, a JVM without fonts) is a warning, once:
     * the training run matters more than its picture.
     */
    void refresh() {
        if (failed) return;
        try {
            write(dir, title, subtitle);
            drawn = true;
        } catch (RuntimeException | LinkageError | java.awt.AWTError e) {
            failed = true;
            err.println("llmj: warning: cannot draw " + dir.resolve(FILE) + " (" + (e instanceof LlmjException ? e.getMessage() : e.toString())
                    + "); training goes on without it");
            err.flush();
        }
    }

    /** Whether the chart is up to date: drawn at least once and never failed since. */
    boolean drawn() {
        return drawn && !failed;
    }

    /** Draws {@code dir/train-log.jsonl} into {@code dir/loss.svg}, atomically. */
    static void write(Path dir, String title, String subtitle) {
        XYSeries train = new XYSeries("train"), val = new XYSeries("validation");
        Path log = dir.resolve(Trainer.LOG);
        try {
            for (String line : Files.readAllLines(log)) {
                if (line.isBlank()) continue;
                Map<String, Object> r = Json.obj(Json.parse(line, log.toString()), Trainer.LOG);
                double step = ((Number) r.get("step")).doubleValue();
                train.add(step, (Number) r.get("train_loss"));
                val.add(step, (Number) r.get("val_loss"));
            }
        } catch (IOException e) {
            throw new LlmjException("cannot read " + log + ": " + AtomicFiles.describe(e));
        }
        XYSeriesCollection data = new XYSeriesCollection();
        data.addSeries(train);
        data.addSeries(val);

        NumberAxis steps = new NumberAxis("step"), loss = new NumberAxis("loss");
        steps.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        steps.setAutoRangeIncludesZero(false);
        loss.setAutoRangeIncludesZero(false); // the interesting part of a loss curve is far above zero
        XYLineAndShapeRenderer lines = new XYLineAndShapeRenderer(true, true) {
            @Override
            protected void drawFirstPassShape(Graphics2D g2, int pass, int series, int item, Shape shape) {
                g2.setRenderingHint(SVGHints.KEY_ELEMENT_ID, series == 0 ? TRAIN_ID : VAL_ID); // names the next element drawn: this line
                super.drawFirstPassShape(g2, pass, series, item, shape);
            }
        };
        lines.setDrawSeriesLineAsPath(true); // one <path> per series rather than a <line> per segment
        Shape dot = new Ellipse2D.Double(-3, -3, 6, 6); // a dot per evaluation, so a single one still shows
        Color[] colors = {TRAIN, VAL};
        for (int s = 0; s < 2; s++) {
            lines.setSeriesPaint(s, colors[s]);
            lines.setSeriesStroke(s, new BasicStroke(2f));
            lines.setSeriesShape(s, dot);
        }
        XYPlot plot = new XYPlot(data, steps, loss, lines);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(GRID);
        plot.setRangeGridlinePaint(GRID);
        plot.setDomainGridlineStroke(new BasicStroke(1f));
        plot.setRangeGridlineStroke(new BasicStroke(1f));
        plot.setOutlineVisible(false);

        JFreeChart chart = new JFreeChart(title, new Font(Font.SANS_SERIF, Font.BOLD, 16), plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        chart.addSubtitle(new TextTitle(subtitle, new Font(Font.SANS_SERIF, Font.PLAIN, 12)));
        SVGGraphics2D g = new SVGGraphics2D(WIDTH, HEIGHT);
        g.setDefsKeyPrefix("loss"); // a fixed prefix for clip-path ids (the default is a clock reading), so the same log gives the same file
        g.setGeomDoubleConverter(LossChart::twoDecimals);
        chart.draw(g, new Rectangle2D.Double(0, 0, WIDTH, HEIGHT));
        AtomicFiles.writeString(dir.resolve(FILE), "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + g.getSVGElement() + "\n");
    }

    /** Coordinates to 1/100 of a pixel (finer than any screen shows) instead of every digit of a double. */
    private static String twoDecimals(double v) {
        long r = Math.round(v * 100);
        return r % 100 == 0 ? Long.toString(r / 100) : Double.toString(r / 100.0);
    }
}
