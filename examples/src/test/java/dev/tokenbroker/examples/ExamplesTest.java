package dev.tokenbroker.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs every example, and keeps the README's snippets identical to the examples' code. */
class ExamplesTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @TempDir Path dir;

  @Test
  void quickStart_runsAgainstTheEmulator() {
    assertThatCode(() -> QuickStart.main(new String[0])).doesNotThrowAnyException();
  }

  @Test
  void onboarding_runsAgainstTheEmulator() {
    assertThatCode(() -> Onboarding.main(new String[0])).doesNotThrowAnyException();
  }

  @Test
  void readmeConfiguration_buildsABroker() throws IOException {
    String readme = Files.readString(ROOT.resolve("README.md"), StandardCharsets.UTF_8);
    Matcher yaml = Pattern.compile("```yaml\n(.*?)```", Pattern.DOTALL).matcher(readme);
    assertThat(yaml.find()).as("a yaml block in README.md").isTrue();
    Path config = dir.resolve("tokenbroker.yaml");
    Files.writeString(config, yaml.group(1));
    java.util.Map<String, String> env =
        java.util.Map.of(
            "TOKENBROKER_KEY",
            java.util.Base64.getEncoder().encodeToString(new byte[32]),
            "CAFE24_CLIENT_ID",
            "id",
            "CAFE24_CLIENT_SECRET",
            "secret",
            "NAVER_CLIENT_ID",
            "aaaabbbbcccc",
            "NAVER_CLIENT_SECRET",
            "$2a$10$abcdefghijklmnopqrstuv",
            "KAKAO_REST_KEY",
            "rest-key");
    try (dev.tokenbroker.TokenBroker broker =
        dev.tokenbroker.TokenBroker.builder().configFile(config).environment(env).build()) {
      assertThat(broker.connections()).hasSize(3);
    }
    assertThat(dir.resolve("tokens")).as("the store, beside the file that names it").isDirectory();
  }

  /** core/README.md's network settings example builds a broker whose connection uses the proxy. */
  @Test
  void coreReadmeNetworkSettings_buildABroker() throws IOException {
    String readme = Files.readString(ROOT.resolve("core/README.md"), StandardCharsets.UTF_8);
    Matcher yaml = Pattern.compile("```yaml\n(.*?)```", Pattern.DOTALL).matcher(readme);
    String block = null;
    while (yaml.find()) {
      if (yaml.group(1).contains("proxy:")) {
        block = yaml.group(1);
      }
    }
    assertThat(block).as("a yaml block with proxy: in core/README.md").isNotNull();
    Path config = dir.resolve("network.yaml");
    Files.writeString(config, block);
    java.util.Map<String, String> env =
        java.util.Map.of(
            "NAVER_CLIENT_ID",
            "aaaabbbbcccc",
            "NAVER_CLIENT_SECRET",
            "$2a$10$abcdefghijklmnopqrstuv");
    try (dev.tokenbroker.TokenBroker broker =
        dev.tokenbroker.TokenBroker.builder()
            .configFile(config)
            .environment(env)
            .withoutKeepAlive()
            .build()) {
      assertThat(broker.connections()).hasSize(1);
    }
  }

  /**
   * The root README's dependency snippet is, verbatim, the one the consumer project built by the
   * maven-invoker-plugin uses (examples/src/it/readme-consumer): so the front door always builds.
   */
  @Test
  void readmeDependencySnippet_isTheConsumerProjectsVerbatim() throws IOException {
    String readme = Files.readString(ROOT.resolve("README.md"), StandardCharsets.UTF_8);
    Matcher xml =
        Pattern.compile("<!-- readme-consumer:use-it -->\\s*```xml\\n(.*?)```", Pattern.DOTALL)
            .matcher(readme);
    assertThat(xml.find()).as("a <!-- readme-consumer:use-it --> xml block in README.md").isTrue();
    List<String> pom =
        Files.readAllLines(
            ROOT.resolve("examples/src/it/readme-consumer/pom.xml"), StandardCharsets.UTF_8);
    int start = indexOfTrimmed(pom, "<!-- readme:use-it:start -->");
    int end = indexOfTrimmed(pom, "<!-- readme:use-it:end -->");
    assertThat(start).as("readme:use-it markers in the consumer pom").isNotNegative();
    StringBuilder block = new StringBuilder();
    int indent = leading(pom.get(start));
    for (String line : pom.subList(start + 1, end)) {
      block.append(line.isBlank() ? "" : line.substring(Math.min(indent, leading(line))));
      block.append('\n');
    }
    assertThat(xml.group(1)).isEqualTo(block.toString());
    assertThat(xml.group(1)).contains("<version>" + projectVersion() + "</version>");
  }

  private static int indexOfTrimmed(List<String> lines, String text) {
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).trim().equals(text)) {
        return i;
      }
    }
    return -1;
  }

  /** The reactor's version, from the root pom's first {@code <version>} (the project's own). */
  private static String projectVersion() throws IOException {
    String pom = Files.readString(ROOT.resolve("pom.xml"), StandardCharsets.UTF_8);
    Matcher m =
        Pattern.compile("<artifactId>tokenbroker-parent</artifactId>\\s*<version>([^<]+)<")
            .matcher(pom);
    assertThat(m.find()).isTrue();
    return m.group(1);
  }

  @Test
  void everyReadmeSnippet_isTheExamplesCodeVerbatim() throws IOException {
    List<Path> readmes = new ArrayList<>();
    try (Stream<Path> s = Files.walk(ROOT, 2)) {
      s.filter(p -> p.getFileName().toString().equals("README.md"))
          .filter(p -> !p.toString().contains("/target/"))
          .forEach(readmes::add);
    }
    int checked = 0;
    Pattern marker =
        Pattern.compile("<!-- snippet:([a-z0-9-]+) -->\\s*```java\\n(.*?)```", Pattern.DOTALL);
    for (Path readme : readmes) {
      Matcher m = marker.matcher(Files.readString(readme, StandardCharsets.UTF_8));
      while (m.find()) {
        assertThat(m.group(2))
            .as(
                "snippet %s in %s must equal the example's code (run examples/sync-snippets.sh)",
                m.group(1), readme)
            .isEqualTo(snippet(m.group(1)));
        checked++;
      }
    }
    assertThat(checked).as("README snippets found").isPositive();
  }

  /** The lines between {@code // snippet:NAME:start} and {@code :end}, de-indented. */
  static String snippet(String name) throws IOException {
    Path dir = ROOT.resolve("examples/src/main/java/dev/tokenbroker/examples");
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        if (!Files.isRegularFile(f)) {
          continue; // skeleton/: the provider-module skeleton, shown whole in docs/providers.md
        }
        List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
        int start = lines.indexOf(indentOf(lines, "// snippet:" + name + ":start"));
        if (start < 0) {
          continue;
        }
        int end = lines.indexOf(indentOf(lines, "// snippet:" + name + ":end"));
        List<String> body = lines.subList(start + 1, end);
        int indent =
            body.stream().filter(l -> !l.isBlank()).mapToInt(ExamplesTest::leading).min().orElse(0);
        StringBuilder b = new StringBuilder();
        for (String l : body) {
          b.append(l.isBlank() ? "" : l.substring(indent)).append('\n');
        }
        return b.toString();
      }
    }
    throw new AssertionError("no example has snippet " + name);
  }

  private static String indentOf(List<String> lines, String text) {
    for (String l : lines) {
      if (l.trim().equals(text)) {
        return l;
      }
    }
    return text;
  }

  private static int leading(String s) {
    int i = 0;
    while (i < s.length() && s.charAt(i) == ' ') {
      i++;
    }
    return i;
  }
}
