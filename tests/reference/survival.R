# Golden values for tests/stats/test_survival.py from R `survival`.
# Regenerate from the repository root:
#   Rscript tests/reference/survival.R <lifelines datasets dir>
# (the CSVs lifelines ships: gbsg2.csv = TH.data::GBSG2, rossi.csv, lung.csv with status 0/1).
suppressMessages(library(survival))
source("tests/reference/_json.R")
args <- commandArgs(trailingOnly = TRUE)
dd <- args[1]
gbsg2 <- read.csv(file.path(dd, "gbsg2.csv"))
rossi <- read.csv(file.path(dd, "rossi.csv"))
lung <- read.csv(file.path(dd, "lung.csv"))
tiny <- data.frame(time = c(1, 2, 3, 4, 5, 6), event = c(1, 1, 1, 1, 1, 1))      # S = 0.5 on [3, 4)
tiny3 <- data.frame(time = c(1, 2, 3, 4), event = c(1, 1, 0, 0))                            # S = 0.5 to the end
tiny2 <- data.frame(time = c(1, 2, 2, 3, 4, 4, 5, 7, 8, 9), event = c(1, 0, 1, 1, 0, 1, 1, 0, 1, 0))

km <- function(data, time, event, group, conf) {
  f <- if (is.null(group)) as.formula(sprintf("Surv(%s, %s) ~ 1", time, event)) else
    as.formula(sprintf("Surv(%s, %s) ~ %s", time, event, group))
  fit <- survfit(f, data = data, conf.type = conf)
  tab <- summary(fit)$table
  if (is.null(dim(tab))) tab <- t(as.matrix(tab))
  labs <- if (is.null(group)) "all" else sub(".*=", "", rownames(tab))
  res <- list()
  for (i in seq_len(nrow(tab))) {
    res[[labs[i]]] <- list(n = tab[i, "records"], events = tab[i, "events"], median = tab[i, "median"],
                           median_ci_low = tab[i, grep("LCL", colnames(tab))],
                           median_ci_high = tab[i, grep("UCL", colnames(tab))])
  }
  res
}
landmark <- function(data, time, event, group, times, conf) {
  f <- as.formula(sprintf("Surv(%s, %s) ~ %s", time, event, group))
  s <- summary(survfit(f, data = data, conf.type = conf), times = times, extend = TRUE)
  list(strata = sub(".*=", "", as.character(s$strata)), time = s$time, n_risk = s$n.risk,
       surv = s$surv, lower = s$lower, upper = s$upper, std_err = s$std.err)
}
rmst <- function(data, time, event, group, tau) {
  f <- as.formula(sprintf("Surv(%s, %s) ~ %s", time, event, group))
  tab <- summary(survfit(f, data = data), rmean = tau)$table
  list(strata = sub(".*=", "", rownames(tab)), rmean = unname(tab[, "rmean"]), se = unname(tab[, "se(rmean)"]))
}
cox <- function(formula, data, robust = FALSE) {
  # robust left missing unless TRUE: coxph(robust = FALSE) would ignore a cluster() term
  fit <- if (robust) coxph(formula, data = data, ties = "efron", robust = TRUE) else
    coxph(formula, data = data, ties = "efron")
  s <- summary(fit)
  res <- list()
  for (v in rownames(s$coefficients)) {
    res[[v]] <- list(coef = s$coefficients[v, "coef"], hr = s$coefficients[v, "exp(coef)"],
                     se = s$coefficients[v, "se(coef)"],
                     hr_ci_low = s$conf.int[v, "lower .95"], hr_ci_high = s$conf.int[v, "upper .95"],
                     p = s$coefficients[v, "Pr(>|z|)"])
    if ("robust se" %in% colnames(s$coefficients)) res[[v]]$robust_se <- s$coefficients[v, "robust se"]
  }
  list(call = paste(deparse(formula), collapse = ""), loglik = fit$loglik[2], loglik_null = fit$loglik[1],
       iterations = fit$iter, score_chi2 = unname(s$sctest["test"]), lr_chi2 = unname(s$logtest["test"]),
       coefficients = res)
}
lr <- function(formula, data) {
  s <- survdiff(formula, data = data)
  list(call = paste(deparse(formula), collapse = ""), chisq = s$chisq,
       p = pchisq(s$chisq, length(s$n) - 1 - 0 * 0, lower.tail = FALSE), df = length(s$n) - 1)
}
lrs <- function(formula, data, ngroups) {
  s <- survdiff(formula, data = data)
  list(call = paste(deparse(formula), collapse = ""), chisq = s$chisq,
       p = pchisq(s$chisq, ngroups - 1, lower.tail = FALSE), df = ngroups - 1)
}
risk <- function(data, time, event, group, times) {
  f <- as.formula(sprintf("Surv(%s, %s) ~ %s", time, event, group))
  s <- summary(survfit(f, data = data), times = times, extend = TRUE)
  list(strata = sub(".*=", "", as.character(s$strata)), time = s$time, n_risk = s$n.risk)
}
out <- list(r_version = R.version.string, survival_version = as.character(packageVersion("survival")))
out$km <- list()
for (conf in c("log", "log-log", "plain")) {
  out$km[[conf]] <- list(
    gbsg2_horTh = km(gbsg2, "time", "cens", "horTh", conf),
    gbsg2_all = km(gbsg2, "time", "cens", NULL, conf),
    rossi_fin = km(rossi, "week", "arrest", "fin", conf),
    lung_sex = km(lung, "time", "status", "sex", conf),
    tiny = km(tiny, "time", "event", NULL, conf),
    tiny2 = km(tiny2, "time", "event", NULL, conf),
    tiny3 = km(tiny3, "time", "event", NULL, conf))
}
out$landmark <- list(
  log = landmark(gbsg2, "time", "cens", "horTh", c(365, 730, 1825), "log"),
  `log-log` = landmark(gbsg2, "time", "cens", "horTh", c(365, 730, 1825), "log-log"),
  plain = landmark(gbsg2, "time", "cens", "horTh", c(365, 730, 1825), "plain"))
out$risk_table <- list(
  gbsg2 = risk(gbsg2, "time", "cens", "horTh", c(0, 500, 1000, 1500, 2000, 2500)),
  lung = risk(lung, "time", "status", "sex", c(0, 5, 11, 200, 400, 1000)))
out$rmst <- list(gbsg2_1825 = rmst(gbsg2, "time", "cens", "horTh", 1825),
                 lung_365 = rmst(lung, "time", "status", "sex", 365),
                 rossi_52 = rmst(rossi, "week", "arrest", "fin", 40))
out$logrank <- list(
  gbsg2_horTh = lr(Surv(time, cens) ~ horTh, gbsg2),
  gbsg2_tgrade = lr(Surv(time, cens) ~ tgrade, gbsg2),
  rossi_fin = lr(Surv(week, arrest) ~ fin, rossi),
  lung_sex = lr(Surv(time, status) ~ sex, lung),
  gbsg2_horTh_strata_menostat = lrs(Surv(time, cens) ~ horTh + strata(menostat), gbsg2, 2),
  gbsg2_horTh_strata_tgrade = lrs(Surv(time, cens) ~ horTh + strata(tgrade), gbsg2, 2))
gbsg2$horTh_yes <- as.integer(gbsg2$horTh == "yes")
gbsg2$cl <- (seq_len(nrow(gbsg2)) - 1) %/% 3
out$cox <- list(
  rossi = cox(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio, rossi),
  gbsg2 = cox(Surv(time, cens) ~ horTh_yes + age + tsize + pnodes + progrec + estrec, gbsg2),
  gbsg2_strata = cox(Surv(time, cens) ~ horTh_yes + age + pnodes + strata(menostat), gbsg2),
  lung = cox(Surv(time, status) ~ age + sex, lung),
  rossi_robust = cox(Surv(week, arrest) ~ fin + age + prio, rossi, robust = TRUE),
  gbsg2_strata_robust = cox(Surv(time, cens) ~ horTh_yes + age + pnodes + strata(menostat), gbsg2, robust = TRUE),
  gbsg2_cluster = cox(Surv(time, cens) ~ horTh_yes + age + pnodes + cluster(cl), gbsg2))
write_json(out, "tests/reference/survival.json")
