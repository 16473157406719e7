module github.com/minmaxgan/minmax

go 1.26.0

require golang.org/x/sys v0.50.0

require (
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/spf13/cobra v1.10.2 // indirect
	github.com/spf13/pflag v1.0.9 // indirect
)
