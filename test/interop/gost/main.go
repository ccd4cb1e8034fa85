// Command gost is GOST v3.2.6 as the test suite's peer.
//
// The module proxy refuses github.com/go-gost/gost itself (every version and commit answers
// 403 "This module version is not available."), but it serves the modules that GOST v3.2.6
// (commit 340ba32ef0bebc7293908007cc423dd5f33dd88c) pins: github.com/go-gost/x v0.8.1 and
// github.com/go-gost/core v0.3.3. Everything GOST does on the wire and on its command line —
// the -L/-F/-C parsing, the config loader, every handler, listener, connector and dialer — lives
// in those modules. What cmd/gost adds is a few dozen lines of wiring: flags, parse, load,
// serve, stop on a signal. This file is that wiring, written here against the modules' API, so
// the binary behaves as `gost` v3.2.6 does for everything the suite drives.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"github.com/go-gost/core/logger"
	"github.com/go-gost/core/service"
	"github.com/go-gost/x/config"
	"github.com/go-gost/x/config/loader"
	authparser "github.com/go-gost/x/config/parsing/auth"
	"github.com/go-gost/x/config/parsing/parser"
	xlogger "github.com/go-gost/x/logger"
	xmetrics "github.com/go-gost/x/metrics"
	metricsservice "github.com/go-gost/x/metrics/service"
	"github.com/go-gost/x/registry"
)

// The release this build stands for; `gost -V` prints it as GOST does.
const version = "3.2.6"

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var (
		services, nodes                         listFlag
		cfgFile, outputFormat, apiAddr, metrics string
		debug, trace, printVersion              bool
	)
	flag.Var(&services, "L", "service list")
	flag.Var(&nodes, "F", "chain node list")
	flag.StringVar(&cfgFile, "C", "", "configuration file")
	flag.BoolVar(&printVersion, "V", false, "print version")
	flag.StringVar(&outputFormat, "O", "", "output format, one of yaml|json format")
	flag.BoolVar(&debug, "D", false, "debug mode")
	flag.BoolVar(&trace, "DD", false, "trace mode")
	flag.StringVar(&apiAddr, "api", "", "api service address")
	flag.StringVar(&metrics, "metrics", "", "metrics service address")
	flag.Parse()

	if printVersion {
		fmt.Printf("gost %s (%s %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return
	}

	logger.SetDefault(xlogger.NewLogger())
	parser.Init(parser.Args{
		CfgFile: cfgFile, Services: services, Nodes: nodes,
		Debug: debug, Trace: trace, ApiAddr: apiAddr, MetricsAddr: metrics,
	})
	cfg, err := parser.Parse()
	if err != nil {
		logger.Default().Fatal(err)
	}
	if outputFormat != "" {
		if err := cfg.Write(os.Stdout, outputFormat); err != nil {
			logger.Default().Fatal(err)
		}
		return
	}
	config.Set(cfg)
	if err := loader.Load(cfg); err != nil {
		logger.Default().Fatal(err)
	}
	for _, svc := range registry.ServiceRegistry().GetAll() {
		go svc.Serve()
	}
	var metricsSrv service.Service
	if cfg.Metrics != nil && cfg.Metrics.Addr != "" {
		metricsSrv = serveMetrics(cfg.Metrics)
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	for _, svc := range registry.ServiceRegistry().GetAll() {
		svc.Close()
	}
	if metricsSrv != nil {
		metricsSrv.Close()
	}
}

func serveMetrics(cfg *config.MetricsConfig) service.Service {
	auther := authparser.ParseAutherFromAuth(cfg.Auth)
	if cfg.Auther != "" {
		auther = registry.AutherRegistry().Get(cfg.Auther)
	}
	s, err := metricsservice.NewService("tcp", cfg.Addr,
		metricsservice.PathOption(cfg.Path), metricsservice.AutherOption(auther))
	if err != nil {
		logger.Default().Fatal(err)
	}
	xmetrics.Enable(true)
	go func() {
		log := logger.Default().WithFields(map[string]any{"kind": "service", "service": "@metrics"})
		log.Info("listening on ", s.Addr())
		if err := s.Serve(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error(err)
		}
	}()
	return s
}
