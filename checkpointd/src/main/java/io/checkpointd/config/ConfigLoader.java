package io.checkpointd.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Reads {@code checkpointd.yaml} into a validated {@link CheckpointdConfig}.
 *
 * <p>The YAML is parsed into a tree and walked by hand rather than bound to the records by Jackson, so
 * that every error names the file and the key path and says how to fix it (see {@link ConfigException}).
 * Keys are kebab-case and mirror the records; {@code conf/checkpointd.yaml} lists them all with their
 * defaults. A missing key takes its default; an empty file gives {@link CheckpointdConfig#defaults()}.
 */
public final class ConfigLoader {

    /** A config is a few KiB; anything this large is the wrong file, and is refused before being read. */
    static final long MAX_FILE_BYTES = 1L << 20;

    private static final String SYNTAX_FIX =
            "check the indentation (spaces only) and quote values that contain ': ' or start with '[' or '{'";

    private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            // Two settings of one key are a mistake either way; never let the last one win silently.
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build());

    private ConfigLoader() {
    }

    /**
     * Loads and validates {@code file}.
     *
     * @throws ConfigException when the file is missing, unreadable, not YAML, or breaks a rule; the message
     *                         starts with {@code file} as given
     */
    public static CheckpointdConfig load(Path file) throws ConfigException {
        String source = file.toString();
        JsonNode tree = parse(read(file, source), source);
        Path baseDir = file.toAbsolutePath().getParent();
        return ConfigValidator.validate(ConfigMapper.map(tree, source, baseDir), source);
    }

    /**
     * {@link #load} when a file was named, {@link CheckpointdConfig#defaults()} when {@code maybeNull} is
     * null. A named file that is missing is still an error: the user asked for it.
     */
    public static CheckpointdConfig loadOrDefaults(Path maybeNull) throws ConfigException {
        return maybeNull == null ? CheckpointdConfig.defaults() : load(maybeNull);
    }

    private static byte[] read(Path file, String source) throws ConfigException {
        try {
            if (Files.isDirectory(file)) {
                throw new ConfigException(source, null, "is a directory; give the path of the YAML file inside it");
            }
            long size = Files.size(file);
            if (size > MAX_FILE_BYTES) {
                throw new ConfigException(source, null, "is " + Units.formatBytes(size)
                        + ", too large for a config file; check that this is the right file");
            }
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(source, null, "file not found (looked at " + file.toAbsolutePath()
                    + "); check the path, or start without a config file to use the defaults", e);
        } catch (AccessDeniedException e) {
            throw new ConfigException(source, null, "permission denied; make the file readable by user '"
                    + System.getProperty("user.name") + "'", e);
        } catch (IOException e) {
            throw new ConfigException(source, null, "cannot read the file (" + e.getMessage()
                    + "); check that it is a readable regular file", e);
        }
    }

    private static JsonNode parse(byte[] bytes, String source) throws ConfigException {
        try (JsonParser parser = YAML.createParser(bytes)) {
            JsonNode tree = YAML.readTree(parser);
            if (parser.nextToken() != null) {
                throw syntaxError(source, parser.currentLocation().getLineNr(), parser.currentLocation().getColumnNr(),
                        "a second YAML document (after '---'); keep everything in one document", null);
            }
            return tree;
        } catch (JsonProcessingException e) {
            // SnakeYAML's own exception marks where the problem is (Jackson's location can be the start of
            // the enclosing block) and states it in one line; its marks are 0-based, editors count from 1.
            if (e.getCause() instanceof MarkedYAMLException yaml && yaml.getProblemMark() != null) {
                throw syntaxError(source, yaml.getProblemMark().getLine() + 1, yaml.getProblemMark().getColumn() + 1,
                        explain(yaml.getProblem()), e);
            }
            JsonLocation at = e.getLocation();
            throw syntaxError(source, at == null ? 0 : at.getLineNr(), at == null ? 0 : at.getColumnNr(),
                    explain(e.getOriginalMessage()), e);
        } catch (IOException e) {
            throw new ConfigException(source, null, "cannot parse the file (" + e.getMessage()
                    + "); check that it is UTF-8 text", e);
        }
    }

    /** Turns the parser's wording into {@code <what is wrong>; <how to fix it>}. */
    private static String explain(String problem) {
        String firstLine = problem == null ? "not valid YAML" : problem.strip().lines().findFirst().orElse("").strip();
        if (firstLine.contains("TAB")) {
            return "a tab character where YAML expects spaces; indent with spaces only";
        }
        if (firstLine.startsWith("Duplicate field")) {
            String key = firstLine.substring("Duplicate field".length()).strip();
            return "key " + key + " appears twice in one section; keep one of them";
        }
        if (firstLine.contains("<block end>") || firstLine.contains("<block mapping start>")) {
            return "the indentation does not line up with the lines above; indent the keys of one section by "
                    + "the same number of spaces";
        }
        return firstLine + "; " + SYNTAX_FIX;
    }

    private static ConfigException syntaxError(String source, int line, int column, String detail, Exception cause) {
        String where = line > 0 ? "line " + line + ", column " + column + ": " : "";
        return new ConfigException(source, null, where + detail, cause);
    }
}
