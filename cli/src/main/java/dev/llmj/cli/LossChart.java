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
import org.apache.batik.svggen.DefaultErrorHandler;
import org.apache.batik.svggen.DefaultExtensionHandler;
import org.apache.batik.svggen.DefaultStyleHandler;
import org.apache.batik.svggen.ImageHandlerBase64Encoder;
import org.apache.batik.svggen.SVGGeneratorContext;
import org.apache.batik.svggen.SVGIDGenerator;
import org.apache.batik.svggen.SVGGraphics2D;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.Shape;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Rectangle2D;
import java.awt.Dimension;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.Locale;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;

/**
 * {@code loss.svg} in a model folder: train and validation loss against step. It is redrawn
 * from the whole {@code train-log.jsonl} at each evaluation, so after {@code --resume} it still
 * shows the run from step one. JFreeChart lays the chart out and Batik's SVG generator records
 * its Java2D drawing as an SVG DOM (the JDK's own), which Batik then writes as text: no window,
 * no display.
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
                // Batik has no hint that names an element, so the line is drawn into a top-level group of its own,
                // which gets the id and goes back where the line would have been
                SVGGraphics2D svg = (SVGGraphics2D) g2;
                Element outer = svg.getTopLevelGroup(false); // false: definitions (the plot's clip) stay pending for the root's <defs>
                super.drawFirstPassShape(g2, pass, series, item, shape);
                Element line = svg.getTopLevelGroup(false);
                line.setAttributeNS(null, "id", series == 0 ? TRAIN_ID : VAL_ID);
                outer.appendChild(line);
                svg.setTopLevelGroup(outer);
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
        Document doc;
        try {
            doc = DocumentBuilderFactory.newDefaultInstance().newDocumentBuilder().newDocument(); // the JDK's DOM: Batik's own is not needed
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException(e);
        }
        SVGGraphics2D g = new SVGGraphics2D(new Context(doc), false); // false: text as <text>, so the file holds the words themselves
        g.setSVGCanvasSize(new Dimension(WIDTH, HEIGHT));
        chart.draw(g, new Rectangle2D.Double(0, 0, WIDTH, HEIGHT));
        Element svg = g.getRoot();
        svg.setAttributeNS(null, "viewBox", "0 0 " + WIDTH + " " + HEIGHT); // scales with its box rather than being cropped
        AtomicFiles.write(dir.resolve(FILE), out -> {
            Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8); // declared as such in the XML header Batik writes
            g.stream(svg, w, false, false); // attributes rather than CSS; characters as they are, not escaped
            w.flush();
        });
    }

    /**
     * Batik's default context ({@code SVGGeneratorContext.createDefault}) with no "Generated by"
     * comment, and coordinates to 1/100 of a pixel (finer than any screen shows) written by a
     * {@code DecimalFormat} of its own: Batik's are static, shared by every context in the JVM,
     * and a {@code DecimalFormat} is not thread-safe, so two runs training in one JVM could
     * otherwise garble each other's numbers.
     */
    private static final class Context extends SVGGeneratorContext {
        Context(Document doc) {
            super(doc);
            setIDGenerator(new SVGIDGenerator()); // ids count up from 1 (clipPath1, …): the same drawing gives the same file
            setExtensionHandler(new DefaultExtensionHandler());
            setImageHandler(new ImageHandlerBase64Encoder());
            setStyleHandler(new DefaultStyleHandler());
            setErrorHandler(new DefaultErrorHandler());
            setComment(null);
            setPrecision(2);
            decimalFormat = new DecimalFormat("#.##", DecimalFormatSymbols.getInstance(Locale.US));
        }
    }
}
