# Minimal JSON writer (no jsonlite in Debian's r-base-core): numbers with 15 significant digits.
to_json <- function(x, indent = "") {
  nxt <- paste0(indent, "  ")
  if (is.null(x)) return("null")
  if (is.list(x)) {
    if (!is.null(names(x))) {
      items <- vapply(names(x), function(k) paste0(nxt, '"', k, '": ', to_json(x[[k]], nxt)), "")
      return(paste0("{\n", paste(items, collapse = ",\n"), "\n", indent, "}"))
    }
    items <- vapply(x, function(v) paste0(nxt, to_json(v, nxt)), "")
    return(paste0("[\n", paste(items, collapse = ",\n"), "\n", indent, "]"))
  }
  one <- function(v) {
    if (is.na(v)) return("null")
    if (is.character(v)) return(paste0('"', v, '"'))
    if (is.logical(v)) return(if (v) "true" else "false")
    if (is.infinite(v)) return("null")
    formatC(v, digits = 15, format = "g")
  }
  if (length(x) == 1) return(one(x))
  paste0("[", paste(vapply(as.list(x), one, ""), collapse = ", "), "]")
}
write_json <- function(x, path) writeLines(to_json(x), path)
