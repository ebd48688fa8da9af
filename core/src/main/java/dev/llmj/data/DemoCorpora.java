package dev.llmj.data;

import dev.llmj.LlmjException;
import dev.llmj.io.AtomicFiles;
import dev.llmj.tensor.Rng;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * The generators of the bundled demonstration data in {@code data/}, deterministic, so the
 * committed files can be rebuilt byte for byte (a test checks they are):
 * <pre>
 *   java -cp core/target/classes dev.llmj.data.DemoCorpora data
 * </pre>
 * <ul>
 *   <li>{@code number-words-train.tsv}, {@code number-words-test.tsv}: an encoder–decoder task,
 *       {@code 4071<TAB>four thousand seventy-one} for 0…9,999, a seeded 10% of the numbers held
 *       out as the test set (disjoint from training), for exact-match accuracy.</li>
 *   <li>{@code fill-mask-zh.txt}: a word-level Chinese corpus for masked-language modelling.</li>
 * </ul>
 * Lines are in a seeded random order so that "the last 10% of lines" is a fair validation split.
 */
public final class DemoCorpora {
    public static final String NUMBERS_TRAIN = "number-words-train.tsv", NUMBERS_TEST = "number-words-test.tsv", FILL_MASK = "fill-mask-zh.txt";
    /** Numbers 0 … NUMBERS − 1: 4 digits in, up to 43 characters out ("seven thousand seven hundred seventy-seven"). */
    public static final int NUMBERS = 10_000;
    private static final long SEED = 20240606;

    private DemoCorpora() {}

    /** {train, test} lines {@code n<TAB>words(n)}: 90% and 10% of 0…9,999, disjoint; training shuffled, test in order. */
    public static List<List<String>> numberPairs() {
        int[] order = shuffled(NUMBERS, new Rng(SEED));
        int nTest = NUMBERS / 10;
        boolean[] test = new boolean[NUMBERS];
        for (int i = 0; i < nTest; i++) test[order[i]] = true;
        List<String> train = new ArrayList<>(), held = new ArrayList<>();
        for (int i = nTest; i < NUMBERS; i++) train.add(order[i] + "\t" + NumberWords.words(order[i]));
        for (int n = 0; n < NUMBERS; n++) if (test[n]) held.add(n + "\t" + NumberWords.words(n));
        return List.of(train, held);
    }

    // ---- the fill-mask corpus: every template's blank is decided by the words around it ----

    /** Things that sit somewhere; all take the classifier 只 or are objects, so "我 的 X" reads well. */
    private static final List<String> THINGS = List.of("猫", "狗", "兔子", "小鸟", "书", "杯子", "球", "鞋子", "手机", "钥匙", "苹果", "帽子", "包", "玩具");
    /** Places one is on (上) and places one is in (里): {@code 猫 在 <mask> 上} → a surface, {@code 猫 在 盒子 <mask>} → 里. */
    private static final List<String> ON = List.of("垫子", "桌子", "床", "椅子", "沙发", "地板"), IN = List.of("盒子", "篮子", "柜子", "抽屉");
    private static final List<String> WHOSE = List.of("", "我 的 ", "你 的 ", "他 的 ", "她 的 ", "今天 ", "现在 ", "这时 ");

    /** Noun → its measure word: {@code 我 有 一 <mask> 猫} → 只, {@code 一 <mask> 书} → 本. */
    private static final String[][] MEASURES = {
            {"只", "猫"}, {"只", "狗"}, {"只", "兔子"}, {"只", "鸟"}, {"本", "书"}, {"本", "杂志"}, {"个", "苹果"}, {"个", "杯子"},
            {"个", "球"}, {"个", "盒子"}, {"辆", "车"}, {"辆", "自行车"}, {"条", "鱼"}, {"条", "裤子"}, {"张", "桌子"}, {"张", "纸"},
            {"把", "椅子"}, {"把", "伞"}, {"件", "衣服"}, {"双", "鞋子"}, {"支", "笔"}};
    private static final List<String> WHO = List.of("我", "你", "他", "她", "我们", "他们");
    private static final List<String> HOW_MANY = List.of("一", "两", "三");
    private static final List<String> HAVE = List.of("有", "买 了", "看见 了");

    /** Thing → its colour: {@code 香蕉 是 <mask> 的} → 黄色. */
    private static final String[][] COLOURS = {
            {"香蕉", "黄色"}, {"柠檬", "黄色"}, {"天空", "蓝色"}, {"大海", "蓝色"}, {"草", "绿色"}, {"树叶", "绿色"}, {"雪", "白色"},
            {"牛奶", "白色"}, {"云", "白色"}, {"煤", "黑色"}, {"乌鸦", "黑色"}, {"草莓", "红色"}, {"西红柿", "红色"}, {"橙子", "橙色"},
            {"茄子", "紫色"}, {"葡萄", "紫色"}};
    private static final List<String> KNOWS = List.of("", "我 知道 ", "大家 都 知道 ", "老师 说 ", "妈妈 说 ");

    /** Animal → its food: {@code 熊猫 喜欢 吃 <mask>} → 竹子. */
    private static final String[][] FOODS = {
            {"猫", "鱼"}, {"狗", "骨头"}, {"兔子", "胡萝卜"}, {"猴子", "香蕉"}, {"熊猫", "竹子"}, {"老鼠", "奶酪"}, {"小鸟", "虫子"}, {"牛", "草"}};
    private static final List<String> ANIMAL_WHOSE = List.of("", "小 ", "我 的 ", "他 的 ", "她 的 ", "那 只 ");
    private static final List<String> LIKES = List.of("喜欢 吃", "很 喜欢 吃", "每天 都 吃", "最 爱 吃");

    /** Job → workplace, and person → pronoun: {@code 我 的 妈妈 是 医生 她 在 <mask> 工作} → 医院. */
    private static final String[][] JOBS = {
            {"医生", "医院"}, {"护士", "医院"}, {"老师", "学校"}, {"厨师", "饭店"}, {"服务员", "饭店"}, {"农民", "农场"}, {"警察", "警察局"}, {"司机", "车站"}};
    private static final String[][] PEOPLE = {{"我 的 妈妈", "她"}, {"我 的 爸爸", "他"}, {"我 的 姐姐", "她"}, {"我 的 哥哥", "他"},
            {"他 的 朋友", "他"}, {"她 的 阿姨", "她"}};

    /** Tool → what one does with it: {@code 我 用 筷子 <mask> 饭} → 吃. */
    private static final String[][] TOOLS = {
            {"筷子", "吃 饭"}, {"杯子", "喝 水"}, {"笔", "写 字"}, {"刀", "切 菜"}, {"剪刀", "剪 纸"}, {"勺子", "喝 汤"}, {"钥匙", "开 门"}, {"手机", "打 电话"}};

    /** Season → weather, big and small animals: {@code 冬天 很 <mask>} → 冷, {@code 大象 很 <mask>} → 大. */
    private static final String[][] SEASONS = {{"冬天", "冷"}, {"夏天", "热"}, {"春天", "暖和"}, {"秋天", "凉快"}};
    private static final List<String> WHERE = List.of("", "这里 的 ", "北京 的 ", "今年 的 ", "我们 这里 的 ");
    private static final String[][] SIZES = {{"大象", "大"}, {"鲸鱼", "大"}, {"长颈鹿", "高"}, {"蚂蚁", "小"}, {"老鼠", "小"}};

    /**
     * About 3,000 distinct word-level sentences from the templates above, words separated by
     * spaces, in a seeded random order. A model trained on them with masked-language modelling
     * should fill each blank from its context: {@code 猫 在 <mask> 上} → a surface (垫子, 桌子, 床…),
     * {@code 猫 在 盒子 <mask>} → 里, {@code 我 有 两 <mask> 书} → 本, {@code 香蕉 是 <mask> 的} → 黄色,
     * {@code 熊猫 喜欢 吃 <mask>} → 竹子, {@code 我 的 爸爸 是 老师 <mask> 在 学校 工作} → 他,
     * {@code 我 用 <mask> 吃 饭} → 筷子, {@code 冬天 很 <mask>} → 冷.
     */
    public static List<String> fillMaskSentences() {
        LinkedHashSet<String> s = new LinkedHashSet<>();
        for (String w : WHOSE) {
            for (String x : THINGS) {
                for (String y : ON) s.add(w + x + " 在 " + y + " 上");
                for (String y : IN) s.add(w + x + " 在 " + y + " 里");
            }
        }
        for (String who : WHO) {
            for (String have : HAVE) {
                for (String n : HOW_MANY) for (String[] m : MEASURES) s.add(who + " " + have + " " + n + " " + m[0] + " " + m[1]);
            }
        }
        for (String k : KNOWS) {
            for (String[] c : COLOURS) {
                s.add(k + c[0] + " 是 " + c[1] + " 的");
                s.add(k + c[0] + " 的 颜色 是 " + c[1]);
            }
        }
        for (String w : ANIMAL_WHOSE) for (String like : LIKES) for (String[] f : FOODS) s.add(w + f[0] + " " + like + " " + f[1]);
        for (String[] p : PEOPLE) {
            for (String[] j : JOBS) {
                s.add(p[0] + " 是 " + j[0] + " " + p[1] + " 在 " + j[1] + " 工作");
                s.add(p[0] + " 是 " + j[0] + " " + p[1] + " 每天 都 在 " + j[1] + " 工作");
            }
        }
        for (String who : WHO) {
            for (String[] t : TOOLS) {
                s.add(who + " 用 " + t[0] + " " + t[1]);
                s.add(who + " 每天 用 " + t[0] + " " + t[1]);
            }
        }
        for (String w : WHERE) for (String[] x : SEASONS) s.add(w + x[0] + " 很 " + x[1]);
        for (String k : KNOWS) for (String[] x : SIZES) s.add(k + x[0] + " 很 " + x[1]);
        List<String> all = new ArrayList<>(s);
        int[] order = shuffled(all.size(), new Rng(SEED + 1));
        List<String> out = new ArrayList<>(all.size());
        for (int i : order) out.add(all.get(i));
        return out;
    }

    /** 0 … n − 1 in a seeded random order (Fisher–Yates). */
    private static int[] shuffled(int n, Rng rng) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1), t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }

    /** The text of a data file: its lines, each ending in a line break. */
    public static String text(List<String> lines) {
        return String.join("\n", lines) + "\n";
    }

    /** Writes the three files into {@code args[0]} (the repository's data/ folder). */
    public static void main(String[] args) {
        if (args.length != 1) throw new LlmjException("usage: DemoCorpora DATA_FOLDER");
        Path dir = Path.of(args[0]);
        List<List<String>> numbers = numberPairs();
        write(dir.resolve(NUMBERS_TRAIN), text(numbers.get(0)));
        write(dir.resolve(NUMBERS_TEST), text(numbers.get(1)));
        write(dir.resolve(FILL_MASK), text(fillMaskSentences()));
    }

    private static void write(Path file, String text) {
        AtomicFiles.write(file, out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
    }
}
