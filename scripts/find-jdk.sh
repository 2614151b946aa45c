# Sourced by ./think4j, ./test and .ci/run: sets JAVA_HOME to a JDK >= 25 or exits with a clear message.
think4j_java_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -n1
}
think4j_find_jdk() {
  local candidate major
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] && [ -x "$candidate/bin/javac" ] || continue
    major=$(think4j_java_major "$candidate")
    if [ -n "$major" ] && [ "${major%%.*}" -ge 25 ] 2>/dev/null; then
      export JAVA_HOME="$candidate"
      return 0
    fi
  done
  echo "think4j: needs a JDK 25 or newer. Set JAVA_HOME to one (tried: ${JAVA_HOME:-<unset>}, /usr/lib/jvm/temurin-25-jdk-amd64)." >&2
  exit 1
}
think4j_find_jdk
