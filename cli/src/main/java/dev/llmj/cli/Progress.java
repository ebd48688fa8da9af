package dev.llmj.cli;

import dev.llmj.train.Trainer;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;

/** The live progress line on stderr (redrawn at most a few times a second) and one line per evaluation on stdout. */
final class Progress implements Trainer.Listener {
    private final PrintWriter err, out;
    private long lastDraw;
    private boolean drawn;

    Progress(PrintWriter err, PrintWriter out) {
        this.err = err;
        this.out = out;
    }

    @Override
    public void step(int step, int steps, float loss, double tokensPerSec, double etaSeconds) {
        long now = System.nanoTime();
        if (now - lastDraw < 200_000_000L && step != steps) return;
        lastDraw = now;
        int width = 24, filled = (int) ((long) width * step / steps);
        err.printf("\r[%s%s] step %d/%d  loss %.4f  %,.0f tok/s  ETA %s ", "#".repeat(filled), ".".repeat(width - filled), step, steps, loss,
                tokensPerSec, eta(etaSeconds));
        err.flush();
        drawn = true;
    }

    @Override
    public void eval(Map<String, Object> r) {
        clear();
        out.printf("step %5d  train loss %.4f  val loss %.4f  lr %.2e  %,.0f tok/s  %.1f s%n", (Integer) r.get("step"), (Double) r.get("train_loss"),
                (Double) r.get("val_loss"), (Double) r.get("lr"), (Double) r.get("tokens_per_sec"), (Double) r.get("elapsed_s"));
        out.flush();
    }

    @Override
    public void checkpoint(int step, Path dir) {}

    void done() {
        clear();
    }

    private void clear() {
        if (drawn) {
            err.print("\r" + " ".repeat(90) + "\r");
            err.flush();
            drawn = false;
        }
    }

    private static String eta(double s) {
        if (!Double.isFinite(s)) return "?";
        long t = Math.round(s);
        return t >= 3600 ? String.format("%dh%02dm", t / 3600, t % 3600 / 60) : String.format("%dm%02ds", t / 60, t % 60);
    }
}
