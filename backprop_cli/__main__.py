from backprop_cli.cli.main import main

main()
