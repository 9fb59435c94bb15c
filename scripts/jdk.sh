# Finds a JDK >= 22 and sets JAVA to its java launcher. Sourced by ./panamaformer and bench/run.
# Looks at $JAVA_HOME, the java on PATH, then the usual install places; fails with one line.
panamaformer_find_java() {
  local want=22 candidate version
  for candidate in "${JAVA_HOME:+$JAVA_HOME/bin/java}" "$(command -v java 2>/dev/null)" \
      /usr/lib/jvm/*/bin/java /opt/java/*/bin/java /opt/jdk*/bin/java "$HOME"/.sdkman/candidates/java/*/bin/java \
      "$HOME"/.jdks/*/bin/java /Library/Java/JavaVirtualMachines/*/Contents/Home/bin/java; do
    [ -n "$candidate" ] && [ -x "$candidate" ] || continue
    version=$("$candidate" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
    if [ -n "$version" ] && [ "${version%%.*}" -ge "$want" ] 2>/dev/null; then
      JAVA="$candidate"
      return 0
    fi
  done
  echo "error: no JDK $want or newer found (looked at \$JAVA_HOME, PATH and /usr/lib/jvm); install one, e.g. Temurin 25" >&2
  return 1
}
